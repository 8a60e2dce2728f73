"""The QA evaluation set: well-formed rows whose answer keys and sources hold against the corpus as the parser sees it."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from common.text import normalize
from ingest.sources import CORPUS_DIR, corpus_url, to_page

DATA = Path(__file__).resolve().parents[1] / "data"
QA_PATH = DATA / "qa.jsonl"
# Further sets, each written from the pages without looking at the assistant's answers (see tests/data/README.md).
QA_SETS = [
    QA_PATH,
    DATA / "qa_extra.jsonl",
    DATA / "qa_holdout.jsonl",
    DATA / "qa_blind.jsonl",  # checked for soundness here; its answers are read only as aggregates
    DATA / "qa_languages_major.jsonl",
    DATA / "qa_languages_other.jsonl",
    DATA / "qa_languages_blind.jsonl",  # written blind in 12 languages; read only as aggregates
    DATA / "qa_languages_blind2.jsonl",  # a second blind set in 12 other languages; not yet read at all
]
LANGUAGES = {
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr",
    "hu", "it", "lt", "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv",
}  # fmt: skip
FIELDS: dict[str, type] = {
    "id": str,
    "question": str,
    "reference_answer": str,
    "answer_keys": list,
    "reference_sources": list,
    "should_refuse": bool,
    "tags": list,
    "language": str,
}
REFUSE_TAGS = {"refuse-off-topic", "refuse-not-covered", "refuse-injection"}
CATEGORY_TAGS = {
    "figure", "definition", "list", "who-does-what", "paraphrase", "typo", "follow-up", "topic-switch", "multi-page",
} | REFUSE_TAGS  # fmt: skip
MIN_PER_TAG = {
    "figure": 30, "definition": 20, "list": 15, "who-does-what": 15, "paraphrase": 25, "typo": 15, "follow-up": 15,
    "multi-page": 12, "refuse-off-topic": 10, "refuse-not-covered": 10, "refuse-injection": 10,
}  # fmt: skip
MIN_ROWS = 175
MIN_REFUSALS = 30
MIN_ANSWERABLE_PER_PAGE = 2
MAX_KEYS = 3
ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*-\d{2}$")
SOURCE = re.compile(r"^corpus/pages/(?P<page>[a-z0-9-]+\.html)#(?P<anchor>[a-z0-9-]+)$")


def fold(text: str) -> str:
    """Text as keys are matched: one kind of quote and dash, single spaces, case-folded."""
    return normalize(text).casefold()


@pytest.fixture(scope="module", params=QA_SETS, ids=lambda p: p.name)
def qa_path(request: pytest.FixtureRequest) -> Path:
    """Each QA set in turn: every rule holds for all (the minimum counts are the main set's alone)."""
    path: Path = request.param
    return path


@pytest.fixture(scope="module")
def lines(qa_path: Path) -> list[str]:
    """The raw lines of the set, so that a line that is not JSON can be named."""
    return qa_path.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def rows(lines: list[str]) -> list[dict[str, Any]]:
    """The parsed rows, in file order."""
    return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def corpus() -> dict[str, tuple[set[str], str]]:
    """For each page file name: the anchors of its h2/h3 sections and its visible text, folded."""
    out = {}
    for path in sorted(CORPUS_DIR.glob("*.html")):
        page = to_page(path.read_bytes(), location=str(path), url=corpus_url(path))
        anchors = {b.anchor for b in page.blocks if b.kind == "heading" and b.level in (2, 3) and b.anchor}
        out[path.name] = (anchors, fold(page.text))
    return out


def answerable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows the assistant should answer rather than decline."""
    return [r for r in rows if not r["should_refuse"]]


def cited_pages(row: dict[str, Any]) -> list[str]:
    """The page file names a row cites, in order (malformed sources are reported by their own test)."""
    return [m.group("page") for s in row["reference_sources"] if (m := SOURCE.match(s))]


def test_every_line_is_a_json_object(lines: list[str]) -> None:
    bad = []
    for number, line in enumerate(lines, 1):
        try:
            if not isinstance(json.loads(line), dict):
                bad.append(f"line {number}: not an object")
        except json.JSONDecodeError as exc:
            bad.append(f"line {number}: {exc}")
    assert not bad


def test_ids_are_unique_and_well_formed(rows: list[dict[str, Any]]) -> None:
    ids = Counter(r.get("id") for r in rows)
    assert not [i for i, n in ids.items() if n > 1]
    assert not [r.get("id") for r in rows if not ID.match(str(r.get("id")))]


def test_required_fields_have_the_right_types(rows: list[dict[str, Any]]) -> None:
    bad = []
    for row in rows:
        for name, kind in FIELDS.items():
            if not isinstance(row.get(name), kind):
                bad.append(f"{row.get('id')}: {name}")
        lists = [row.get("answer_keys"), row.get("reference_sources"), row.get("tags")]
        if not all(isinstance(v, list) and all(isinstance(x, str) and x.strip() for x in v) for v in lists):
            bad.append(f"{row.get('id')}: list items must be non-empty strings")
        if not (str(row.get("question", "")).strip() and str(row.get("reference_answer", "")).strip()):
            bad.append(f"{row.get('id')}: empty question or answer")
        if row.get("language") not in LANGUAGES:
            bad.append(f"{row.get('id')}: language")
        if set(row) - set(FIELDS) - {"history"}:
            bad.append(f"{row.get('id')}: unknown fields {sorted(set(row) - set(FIELDS) - {'history'})}")
    assert not bad


def test_questions_are_not_repeated(rows: list[dict[str, Any]]) -> None:
    questions = Counter(fold(r["question"]) for r in rows)
    assert not [q for q, n in questions.items() if n > 1]


def test_no_two_sets_share_a_question_or_an_id() -> None:
    sets = [[json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] for path in QA_SETS]
    questions = Counter(q for rows in sets for q in {fold(r["question"]) for r in rows})
    ids = Counter(i for rows in sets for i in {r["id"] for r in rows})
    assert [q for q, n in questions.items() if n > 1] == []
    assert [i for i, n in ids.items() if n > 1] == []


def test_tags_come_from_the_allowed_list(rows: list[dict[str, Any]]) -> None:
    bad = []
    for row in rows:
        tags = row["tags"]
        topics = [t for t in tags if t.startswith("topic:")]
        unknown = [t for t in tags if t not in CATEGORY_TAGS and not t.startswith("topic:")]
        if unknown or len(topics) != 1 or len(topics) == len(tags) or len(set(tags)) != len(tags):
            bad.append(f"{row['id']}: {tags}")
        refuse = [t for t in tags if t in REFUSE_TAGS]
        if row["should_refuse"] != bool(refuse) or len(refuse) > 1:
            bad.append(f"{row['id']}: should_refuse={row['should_refuse']} but refuse tags {refuse}")
        if "follow-up" in tags and "history" not in row:
            bad.append(f"{row['id']}: a follow-up needs its history")
        if "history" in row and not ({"follow-up", "topic-switch"} & set(tags) or refuse):
            bad.append(f"{row['id']}: a history belongs to a follow-up, a topic switch or a refusal in a chat")
    assert not bad


def test_refusals_have_no_keys_or_sources_and_answers_have_both(rows: list[dict[str, Any]]) -> None:
    bad = []
    for row in rows:
        keys, sources = row["answer_keys"], row["reference_sources"]
        if row["should_refuse"] and (keys or sources):
            bad.append(f"{row['id']}: a refusal carries keys or sources")
        if not row["should_refuse"] and not (1 <= len(keys) <= MAX_KEYS and sources):
            bad.append(f"{row['id']}: needs 1-{MAX_KEYS} keys and at least one source")
    assert not bad


def test_sources_point_to_existing_pages_and_section_anchors(
    rows: list[dict[str, Any]], corpus: dict[str, tuple[set[str], str]]
) -> None:
    bad = []
    for row in rows:
        for source in row["reference_sources"]:
            match = SOURCE.match(source)
            if not match:
                bad.append(f"{row['id']}: malformed source {source}")
            elif match.group("page") not in corpus:
                bad.append(f"{row['id']}: no page {match.group('page')}")
            elif match.group("anchor") not in corpus[match.group("page")][0]:
                bad.append(f"{row['id']}: no section #{match.group('anchor')} in {match.group('page')}")
        if len(set(row["reference_sources"])) != len(row["reference_sources"]):
            bad.append(f"{row['id']}: repeated source")
    assert not bad


def test_answer_keys_occur_in_the_visible_text_of_a_cited_page(
    rows: list[dict[str, Any]], corpus: dict[str, tuple[set[str], str]]
) -> None:
    bad = []
    for row in answerable(rows):
        texts = [corpus[p][1] for p in cited_pages(row) if p in corpus]
        for key in row["answer_keys"]:
            alternatives = [fold(a) for a in key.split("|")]
            if not all(alternatives) or not any(a in text for a in alternatives for text in texts):
                bad.append(f"{row['id']}: {key!r}")
    assert not bad


def test_reference_answers_pass_their_own_keys(rows: list[dict[str, Any]]) -> None:
    bad = []
    # The language sets' reference answers are English notes for the reader, written freely; their keys hold the
    # pages' own wording, checked against the pages below.
    for row in (r for r in answerable(rows) if r["language"] == "en"):
        answer = fold(row["reference_answer"])
        bad += [f"{row['id']}: {k!r}" for k in row["answer_keys"] if not any(fold(a) in answer for a in k.split("|"))]
    assert not bad


def test_topic_tag_names_a_cited_page(rows: list[dict[str, Any]]) -> None:
    bad = []
    for row in answerable(rows):
        topic = next(t for t in row["tags"] if t.startswith("topic:")).removeprefix("topic:")
        if f"{topic}.html" not in cited_pages(row):
            bad.append(f"{row['id']}: topic:{topic}")
    assert not bad


def test_multi_page_rows_cite_two_different_pages(rows: list[dict[str, Any]]) -> None:
    bad = [r["id"] for r in rows if "multi-page" in r["tags"] and len(set(cited_pages(r))) < 2]
    assert not bad


def test_follow_up_histories_are_well_formed_turns(rows: list[dict[str, Any]]) -> None:
    bad = []
    for row in rows:
        if "history" not in row:
            continue
        history = row["history"]
        if not isinstance(history, list) or not history or len(history) % 2:
            bad.append(f"{row['id']}: history must be user/assistant pairs")
            continue
        for index, turn in enumerate(history):
            role = "user" if index % 2 == 0 else "assistant"
            if not isinstance(turn, dict) or set(turn) != {"role", "content"} or turn["role"] != role:
                bad.append(f"{row['id']}: turn {index} should be {{'role': '{role}', 'content': ...}}")
            elif not isinstance(turn["content"], str) or not turn["content"].strip():
                bad.append(f"{row['id']}: turn {index} is empty")
    assert not bad


def test_minimum_counts_of_the_main_set(corpus: dict[str, tuple[set[str], str]]) -> None:
    rows = [json.loads(line) for line in QA_PATH.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= MIN_ROWS
    assert sum(r["should_refuse"] for r in rows) >= MIN_REFUSALS
    tags = Counter(t for r in rows for t in r["tags"])
    assert {t: tags[t] for t, n in MIN_PER_TAG.items() if tags[t] < n} == {}
    per_page = Counter(p for r in answerable(rows) for p in set(cited_pages(r)))
    assert {p: per_page[p] for p in corpus if per_page[p] < MIN_ANSWERABLE_PER_PAGE} == {}
