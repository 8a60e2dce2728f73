"""Evaluation metrics on small hand-computed cases, edge cases included."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest

from evaluation.metrics import (
    CitedSentence,
    RetrievedRef,
    aggregate,
    citation_precision,
    cosine,
    faithfulness,
    key_fact_recall,
    latency_summary,
    page_match,
    percentile,
    refusal_scores,
    retrieval_scores,
    section_match,
    token_f1,
)

BLUE = "corpus/pages/eu-blue-card.html"


def ref(url: str, anchor: str = "", title: str = "", source_url: str = "") -> RetrievedRef:
    return RetrievedRef(url=url, link=f"{url}#{anchor}" if anchor else url, title=title, source_url=source_url)


# --- source matching ---


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        (BLUE, True),
        (BLUE + "#who-can-apply", True),
        ("eu-blue-card.html", True),
        ("pages/eu-blue-card.html/", True),
        ("other/folder/eu-blue-card.html", True),  # same last path segment
        ("corpus/pages/blue-card.html", False),
        ("card.html", False),  # a suffix of the name, not a path segment
        ("  eu   blue CARD ", True),  # the title, case and spaces aside
        ("EU Blue Card directive", False),
        ("https://EUR-Lex.Europa.eu/eli/dir/2021/1883/oj/", True),  # the official source the page summarises
        ("https://www.eur-lex.europa.eu/eli/dir/2021/1883/oj", True),
        ("https://eur-lex.europa.eu/eli/dir/2021/1883/oj?lang=en", False),  # the query is kept
        ("https://eur-lex.europa.eu/eli/dir/2021/1883", False),
        ("", False),
    ],
)
def test_page_match(reference: str, expected: bool) -> None:
    passage = ref(BLUE, "conditions", "EU Blue Card", "https://eur-lex.europa.eu/eli/dir/2021/1883/oj")
    assert page_match(reference, passage) is expected


def test_page_match_absolute_page_address() -> None:
    passage = ref("https://home-affairs.ec.europa.eu/policies/migration/", "x", "Migration")
    assert page_match("HTTPS://WWW.home-affairs.ec.europa.eu/policies/migration#y", passage)
    assert page_match("policies/migration", passage)  # relative reference, absolute page address
    assert not page_match("http://home-affairs.ec.europa.eu/policies/migration", passage)  # another scheme


def test_page_match_without_title_never_matches_by_title() -> None:
    assert not page_match("", ref(BLUE))
    assert not page_match("   ", ref("corpus/pages/a.html"))


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        (BLUE + "#conditions", True),
        ("eu-blue-card.html#conditions", True),
        (BLUE + "#fees", False),
        ("corpus/pages/asylum.html#conditions", False),  # right anchor, wrong page
        (BLUE, True),  # no anchor: page level
        ("EU Blue Card", True),  # a title has no anchor: page level
    ],
)
def test_section_match(reference: str, expected: bool) -> None:
    assert section_match(reference, ref(BLUE, "conditions", "EU Blue Card")) is expected


def test_section_match_needs_an_anchor_on_the_link() -> None:
    assert not section_match(BLUE + "#conditions", ref(BLUE))
    assert section_match(BLUE + "#r%C3%A9sum%C3%A9", ref(BLUE, "résumé"))  # percent-encoding aside


# --- retrieval scores ---


def test_retrieval_scores_second_rank_and_duplicates() -> None:
    retrieved = [ref("corpus/pages/a.html"), ref(BLUE, "s1"), ref(BLUE, "s2"), ref("corpus/pages/c.html")]
    scores = retrieval_scores(retrieved, [BLUE], k=3)
    assert scores == pytest.approx(
        # the second section of the same page earns no gain: the reference was already credited
        {"hit@1": 0.0, "hit@3": 1.0, "recall@3": 1.0, "mrr@3": 0.5, "ndcg@10": 1 / math.log2(3)}
    )


def test_retrieval_scores_two_references_one_beyond_k() -> None:
    retrieved = [ref("corpus/pages/a.html", "x"), ref("corpus/pages/a.html", "y"), ref("b.html"), ref("c.html")]
    scores = retrieval_scores(retrieved, ["corpus/pages/a.html", "c.html"], k=3)
    ideal = 1 + 1 / math.log2(3)
    assert scores == pytest.approx(
        {"hit@1": 1.0, "hit@3": 1.0, "recall@3": 0.5, "mrr@3": 1.0, "ndcg@10": (1 + 1 / math.log2(5)) / ideal}
    )


def test_retrieval_scores_nothing_relevant() -> None:
    retrieved = [ref("corpus/pages/a.html"), ref("corpus/pages/b.html")]
    assert retrieval_scores(retrieved, [BLUE], k=5) == {
        "hit@1": 0.0,
        "hit@5": 0.0,
        "recall@5": 0.0,
        "mrr@5": 0.0,
        "ndcg@10": 0.0,
    }


def test_retrieval_scores_nothing_retrieved() -> None:
    assert retrieval_scores([], [BLUE], k=5) == {
        "hit@1": 0.0,
        "hit@5": 0.0,
        "recall@5": 0.0,
        "mrr@5": 0.0,
        "ndcg@10": 0.0,
    }


def test_retrieval_scores_without_references_is_empty() -> None:
    assert retrieval_scores([ref(BLUE)], [], k=5) == {}
    assert retrieval_scores([ref(BLUE)], ["  "], k=5) == {}


def test_retrieval_scores_repeated_reference_counts_once() -> None:
    scores = retrieval_scores([ref(BLUE, "a"), ref(BLUE, "b")], [BLUE, BLUE], k=2)
    assert scores["recall@2"] == 1.0
    assert scores["ndcg@10"] == 1.0


def test_retrieval_scores_section_level() -> None:
    retrieved = [ref(BLUE, "s1"), ref(BLUE, "s2")]
    page = retrieval_scores(retrieved, [BLUE + "#s2"], k=1, level="page")
    section = retrieval_scores(retrieved, [BLUE + "#s2"], k=1, level="section")
    assert page == {"hit@1": 1.0, "recall@1": 1.0, "mrr@1": 1.0, "ndcg@10": 1.0}
    assert section == pytest.approx({"hit@1": 0.0, "recall@1": 0.0, "mrr@1": 0.0, "ndcg@10": 1 / math.log2(3)})


def test_ndcg_credits_do_not_depend_on_reference_order() -> None:
    # page x matches both references (itself and its official source); page y only the official source
    official = "https://eur-lex.europa.eu/eli/reg/2024/1351/oj"
    retrieved = [ref("corpus/pages/x.html", source_url=official), ref("corpus/pages/y.html", source_url=official)]
    for references in (["x.html", official], [official, "x.html"]):
        assert retrieval_scores(retrieved, references, k=2)["ndcg@10"] == pytest.approx(1.0)


def test_ndcg_ideal_is_capped_at_ten() -> None:
    references = [f"p{i}.html" for i in range(12)]
    retrieved = [ref(f"corpus/pages/p{i}.html") for i in range(12)]
    scores = retrieval_scores(retrieved, references, k=12)
    assert scores["ndcg@10"] == pytest.approx(1.0)
    assert scores["recall@12"] == 1.0


def test_retrieval_scores_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="level"):
        retrieval_scores([], [BLUE], k=3, level="chunk")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="k must"):
        retrieval_scores([], [BLUE], k=0)


# --- key facts ---


@pytest.mark.parametrize(
    ("answer", "keys", "expected"),
    [
        ("The fee is €20,000 per year.", ["20 000"], 1.0),
        ("The fee is €20 000 per year.", ["20000"], 1.0),
        ("The fee is €20.000 per year.", ["20,000"], 1.0),
        ("The fee is €20\u202f000 per year.", ["20,000"], 1.0),  # narrow no-break space
        ("It costs 1,500,000 in total.", ["1 500 000"], 1.0),
        ("Articles 1, 2 and 3 apply.", ["12"], 0.0),  # a list, not a number
        ("Articles 1, 2 and 3 apply.", ["1, 2"], 1.0),
        ("Valid since 2018.", ["18"], 0.0),  # a number does not match inside a longer one
        ("After 1.5 years.", ["1"], 0.0),
        ("You must be 18.", ["18"], 1.0),
        ("The member state’s decision", ["member state's decision"], 1.0),  # curly apostrophe
        ("It takes 2–3 years.", ["2-3 years"], 1.0),  # en dash
        ("An EU\nBLUE   card.", ["eu blue card"], 1.0),
        ("Apply for a Blue Card; it is valid for three months.", ["blue card|eu blue card", "90 days|3 months"], 0.5),
        ("It is valid for 3 months.", ["90 days|3 months"], 1.0),
        ("", ["blue card"], 0.0),
    ],
)
def test_key_fact_recall(answer: str, keys: list[str], expected: float) -> None:
    assert key_fact_recall(answer, keys) == expected


def test_key_fact_recall_without_keys_is_none() -> None:
    assert key_fact_recall("anything", []) is None
    assert key_fact_recall("anything", ["", " | "]) is None


# --- token F1 ---


def test_token_f1_hand_computed() -> None:
    # tokens: [cat, sat] against [cat, sat, down]: precision 1, recall 2/3
    assert token_f1("The cat sat!", "A cat, sat down.") == pytest.approx(0.8)
    # [cat, cat] against [cat]: one common token, precision 1/2, recall 1
    assert token_f1("cat cat", "the cat") == pytest.approx(2 / 3)
    assert token_f1("dog", "cat") == 0.0


def test_token_f1_edge_cases() -> None:
    assert token_f1("", "a cat") == 0.0
    assert token_f1("a cat", "") is None
    assert token_f1("a cat", "   ") is None
    assert token_f1("the", "a") == 1.0  # both empty once articles are removed, as SQuAD scores it


# --- cosine ---


def test_cosine() -> None:
    assert cosine(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == 0.0
    assert cosine(np.array([1.0, 1.0]), np.array([2.0, 2.0])) == pytest.approx(1.0)
    assert cosine(np.array([1.0, 0.0]), np.array([1.0, 1.0])) == pytest.approx(1 / math.sqrt(2))
    assert cosine(np.array([1.0, 0.0]), np.array([-1.0, 0.5])) == 0.0  # negative similarity floored
    assert cosine(np.zeros(3), np.array([1.0, 2.0, 3.0])) == 0.0
    assert cosine(np.zeros(3), np.zeros(3)) == 0.0


def test_cosine_rejects_different_lengths() -> None:
    with pytest.raises(ValueError, match="differ"):
        cosine(np.ones(3), np.ones(4))


# --- faithfulness and ALCE citations ---

PASSAGES = {1: "p1", 2: "p2", 3: "p3"}
# exactly which sets of passages support which sentence (a real verifier need not be monotone)
SUPPORT = {
    "A": [{"p1"}],
    "B": [{"p2"}, {"p1", "p2"}],
    "C": [{"p1", "p2"}],
    "D": [{"p1"}],
    "G": [{"p2"}],  # supported by p2 alone but not by p2 and p3 together
}


def supports(sentence: str, texts: Sequence[str]) -> bool:
    assert texts, "the verifier is never asked about an empty set"
    return set(texts) in SUPPORT.get(sentence, [])


SENTENCES = [
    CitedSentence("A", (1,)),  # supported; its one citation precise
    CitedSentence("B", (1, 2)),  # supported; [1] irrelevant (alone no, and [2] supports without it), [2] precise
    CitedSentence("C", (1, 2)),  # supported only jointly; both precise
    CitedSentence("D", (3,)),  # not supported; imprecise
    CitedSentence("E", ()),  # no citation: unsupported, nothing to count for precision
    CitedSentence("F", (9,)),  # unknown number: unsupported, imprecise
]


def test_faithfulness_is_alces_citation_recall() -> None:
    assert faithfulness(SENTENCES, PASSAGES, supports) == pytest.approx(3 / 6)


def test_citation_precision() -> None:
    # citations: 1 + 2 + 2 + 1 + 0 + 1 = 7; precise: A1, B2, C1, C2
    assert citation_precision(SENTENCES, PASSAGES, supports) == pytest.approx(4 / 7)


def test_citation_precision_unsupported_sentence_makes_all_its_citations_imprecise() -> None:
    # [2] alone supports G, but [2][3] together do not: ALCE counts both citations as imprecise
    g = [CitedSentence("G", (2, 3))]
    assert citation_precision(g, PASSAGES, supports) == 0.0
    assert faithfulness(g, PASSAGES, supports) == 0.0


def test_repeated_citation_counts_once() -> None:
    sentences = [CitedSentence("A", (1, 1))]
    assert citation_precision(sentences, PASSAGES, supports) == 1.0
    assert faithfulness(sentences, PASSAGES, supports) == 1.0


def test_unknown_citation_among_known_ones() -> None:
    sentences = [CitedSentence("A", (1, 7))]
    assert faithfulness(sentences, PASSAGES, supports) == 0.0
    assert citation_precision(sentences, PASSAGES, supports) == 0.0


def test_citation_metrics_without_sentences_or_citations() -> None:
    assert faithfulness([], PASSAGES, supports) is None
    assert citation_precision([], PASSAGES, supports) is None
    uncited = [CitedSentence("A", ())]
    assert faithfulness(uncited, PASSAGES, supports) == 0.0
    assert citation_precision(uncited, PASSAGES, supports) is None


# --- refusals ---


def test_refusal_scores() -> None:
    pairs = [(True, True), (True, False), (False, True), (False, False), (False, False)]
    assert refusal_scores(pairs) == {
        "tp": 1,
        "fp": 1,
        "fn": 1,
        "tn": 2,
        "refusal_precision": 0.5,
        "refusal_recall": 0.5,
        "false_refusal_rate": pytest.approx(1 / 3),
    }


def test_refusal_scores_refused_answerable_question() -> None:
    assert refusal_scores([(False, True)]) == {
        "tp": 0,
        "fp": 1,
        "fn": 0,
        "tn": 0,
        "refusal_precision": 0.0,
        "refusal_recall": None,
        "false_refusal_rate": 1.0,
    }


def test_refusal_scores_nothing_refused() -> None:
    scores = refusal_scores([(True, False), (False, False)])
    assert scores["refusal_precision"] is None
    assert scores["refusal_recall"] == 0.0
    assert scores["false_refusal_rate"] == 0.0
    assert refusal_scores([])["false_refusal_rate"] is None


# --- latency ---


def test_percentile_interpolates_like_numpy() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 50) == 2.5
    assert percentile(values, 95) == pytest.approx(3.85)
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile([7.0], 95) == 7.0
    assert percentile(values, 37) == pytest.approx(float(np.percentile(values, 37)))


def test_percentile_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile([1.0], 101)


def test_latency_summary_in_milliseconds() -> None:
    assert latency_summary([0.1, 0.4, 0.2, 0.3]) == pytest.approx(
        {"n": 4, "p50_ms": 250.0, "p95_ms": 385.0, "mean_ms": 250.0, "max_ms": 400.0}
    )
    assert latency_summary([]) == {}


# --- aggregation ---


def test_aggregate_overall_and_by_tag() -> None:
    rows: list[dict[str, float | None]] = [
        {"f1": 1.0, "faith": None},
        {"f1": 0.5, "faith": 0.0},
        {"f1": None, "faith": 1.0},
    ]
    tags = [["visa"], ["visa", "asylum"], ["asylum", "asylum"]]
    assert aggregate(rows, tags) == {
        "overall": {"f1": {"mean": 0.75, "n": 2}, "faith": {"mean": 0.5, "n": 2}},
        "by_tag": {
            "asylum": {"f1": {"mean": 0.5, "n": 1}, "faith": {"mean": 0.5, "n": 2}},
            "visa": {"f1": {"mean": 0.75, "n": 2}, "faith": {"mean": 0.0, "n": 1}},
        },
    }


def test_aggregate_keeps_a_metric_without_values() -> None:
    result = aggregate([{"ndcg@10": None}, {"ndcg@10": math.nan}], [[], []])
    assert result == {"overall": {"ndcg@10": {"mean": None, "n": 0}}, "by_tag": {}}


def test_aggregate_rejects_mismatched_inputs() -> None:
    with pytest.raises(ValueError, match="2 rows but 1 tag lists"):
        aggregate([{}, {}], [[]])
    with pytest.raises(TypeError, match="string"):
        aggregate([{}], ["visa"])
