"""Reciprocal rank fusion, ranking by fused score and the per-page cap of diversification."""

from __future__ import annotations

import pytest

from assistant.retrieve import RRF_K, diversify, fuse, ranked_ids

pytestmark = pytest.mark.unit


def test_each_list_adds_one_over_k_plus_rank() -> None:
    scores = fuse(["a", "b", "c"], ["b", "d"])
    assert scores["a"] == pytest.approx(1 / (RRF_K + 1))
    assert scores["b"] == pytest.approx(1 / (RRF_K + 2) + 1 / (RRF_K + 1))
    assert scores["c"] == pytest.approx(1 / (RRF_K + 3))
    assert scores["d"] == pytest.approx(1 / (RRF_K + 2))
    assert set(scores) == {"a", "b", "c", "d"}


def test_an_id_both_lists_hold_beats_one_either_list_ranks_first() -> None:
    ranked = ranked_ids(fuse(["x", "both"], ["y", "both"]))
    assert ranked[0] == "both"


def test_weights_scale_each_lists_contribution() -> None:
    scores = fuse(["a"], ["b"], weights=[2.0, 0.5])
    assert scores["a"] == pytest.approx(2.0 / (RRF_K + 1))
    assert scores["b"] == pytest.approx(0.5 / (RRF_K + 1))
    assert ranked_ids(fuse(["a"], ["b"], weights=[0.5, 2.0])) == ["b", "a"]


def test_a_zero_weight_list_adds_nothing_but_keeps_its_ids() -> None:
    scores = fuse(["a", "b"], ["b", "c"], weights=[1.0, 0.0])
    assert scores["b"] == pytest.approx(1 / (RRF_K + 2))
    assert scores["c"] == 0.0
    assert ranked_ids(scores) == ["a", "b", "c"]


def test_one_weight_per_list() -> None:
    with pytest.raises(ValueError):
        fuse(["a"], ["b"], weights=[1.0])


def test_no_lists_or_empty_lists_give_no_scores() -> None:
    assert fuse() == {}
    assert fuse([], []) == {}
    assert ranked_ids({}) == []


def test_ranked_ids_is_best_first_and_ties_keep_their_order() -> None:
    assert ranked_ids({"low": 0.1, "high": 0.9, "mid": 0.5}) == ["high", "mid", "low"]
    # Two lists' first places tie; the order is the one the ids were first seen in, so results are reproducible.
    assert ranked_ids(fuse(["p", "q"], ["r", "s"])) == ["p", "r", "q", "s"]


PAGES = {"a1": "A", "a2": "A", "a3": "A", "b1": "B", "b2": "B", "c1": "C"}


def test_a_page_gets_at_most_its_share_of_places() -> None:
    chosen = diversify(["a1", "a2", "a3", "b1", "b2", "c1"], PAGES, k=4, max_per_page=2)
    assert chosen == ["a1", "a2", "b1", "b2"]


def test_held_back_ids_fill_up_in_their_order_when_too_few_pages() -> None:
    chosen = diversify(["a1", "a2", "a3", "b1"], PAGES, k=4, max_per_page=1)
    assert chosen == ["a1", "b1", "a2", "a3"]


def test_fill_up_stops_at_k() -> None:
    chosen = diversify(["a1", "a2", "a3", "b1"], PAGES, k=3, max_per_page=1)
    assert chosen == ["a1", "b1", "a2"]


def test_fewer_ids_than_k_are_all_returned() -> None:
    assert diversify(["c1", "a1"], PAGES, k=5, max_per_page=1) == ["c1", "a1"]
    assert diversify([], PAGES, k=5, max_per_page=1) == []


def test_an_id_without_a_page_is_its_own_page() -> None:
    assert diversify(["x", "y", "a1", "a2"], PAGES, k=3, max_per_page=1) == ["x", "y", "a1"]


def test_a_generous_cap_keeps_the_ranking() -> None:
    ranked = ["a1", "a2", "a3", "b1", "b2", "c1"]
    assert diversify(ranked, PAGES, k=6, max_per_page=10) == ranked
