"""QA files load from JSON Lines and CSV; each bad row becomes an error with its line, the rest still load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from common.errors import EumaError
from evaluation.dataset import DatasetError, QAItem, RowError, Turn, load_qa, load_qa_text


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _jsonl(*records: object) -> str:
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n"


# --- JSON Lines ---


def test_jsonl_full_item(tmp_path: Path) -> None:
    record = {
        "id": "bc-1",
        "question": " Who can get an EU Blue Card? ",
        "reference_answer": "Highly qualified workers with a job offer.",
        "answer_keys": ["job offer", "20,000|20 000"],
        "reference_sources": ["corpus/pages/eu-blue-card.html#who-can-apply"],
        "should_refuse": False,
        "history": [{"role": "user", "content": "Hi"}, {"role": "Assistant", "content": "Hello"}],
        "language": "en",
        "tags": ["work", "blue-card"],
        "difficulty": "easy",
        "notes": {"author": "x", "checked": True},
    }
    items, errors = load_qa(_write(tmp_path / "qa.jsonl", _jsonl(record)))
    assert errors == []
    assert items == [
        QAItem(
            id="bc-1",
            question="Who can get an EU Blue Card?",
            reference_answer="Highly qualified workers with a job offer.",
            answer_keys=("job offer", "20,000|20 000"),
            reference_sources=("corpus/pages/eu-blue-card.html#who-can-apply",),
            should_refuse=False,
            history=(Turn("user", "Hi"), Turn("assistant", "Hello")),
            language="en",
            tags=("work", "blue-card"),
            extra={"difficulty": "easy", "notes": {"author": "x", "checked": True}},
            line=1,
        )
    ]


def test_jsonl_minimal_item_has_defaults() -> None:
    items, errors = load_qa_text(_jsonl({"id": 7, "question": "What is asylum?"}), "jsonl")
    assert errors == []
    assert items == [QAItem(id="7", question="What is asylum?", line=1)]
    assert items[0].should_refuse is None


def test_jsonl_skips_blank_and_comment_lines_and_counts_them() -> None:
    text = _jsonl(
        "# a comment", "", {"id": "a", "question": "Q1"}, "   ", "  # indented comment", {"id": "b", "question": "Q2"}
    )
    items, errors = load_qa_text(text, "jsonl")
    assert errors == []
    assert [(i.id, i.line) for i in items] == [("a", 3), ("b", 6)]


def test_jsonl_bad_rows_become_errors_with_their_line(tmp_path: Path) -> None:
    text = _jsonl(
        {"id": "ok-1", "question": "Q"},  # 1
        '{"id": "broken", "question": ',  # 2
        '["id", "question"]',  # 3
        {"id": "no-question"},  # 4
        {"question": "no id"},  # 5
        {"id": "typed", "question": 5},  # 6
        {"id": "ok-1", "question": "again"},  # 7
        {"id": "maybe", "question": "Q", "should_refuse": "maybe"},  # 8
        {"id": "tags", "question": "Q", "tags": [1.5]},  # 9
        {"id": "keys", "question": "Q", "answer_keys": {"a": 1}},  # 10
        {"id": "hist", "question": "Q", "history": "hello"},  # 11
        {"id": "role", "question": "Q", "history": [{"role": "system", "content": "x"}]},  # 12
        {"id": "mixed", "question": "Q", "history": ["hi", {"role": "user", "content": "x"}]},  # 13
        {"id": True, "question": "Q"},  # 14
        {"id": "ok-2", "question": "Q"},  # 15
    )
    items, errors = load_qa(_write(tmp_path / "qa.jsonl", text))
    assert [(i.id, i.line) for i in items] == [("ok-1", 1), ("ok-2", 15)]
    assert [e.line for e in errors] == list(range(2, 15))
    messages = {e.line: e.message for e in errors}
    assert messages[2].startswith("not valid JSON")
    assert messages[3] == "expected a JSON object, got a list"
    assert messages[4] == "missing question"
    assert messages[5] == "missing id"
    assert messages[6] == "question must be text, got a number"
    assert messages[7] == "duplicate id 'ok-1' (first on line 1)"
    assert messages[8] == "should_refuse must be true/false/yes/no/1/0 or empty, got 'maybe'"
    assert messages[9] == "tags must be a list of text, but it holds a number"
    assert messages[10] == "answer_keys must be a list of text or a ';'-separated string, got an object"
    assert messages[11] == "history must be a list of turns, got text"
    assert messages[12] == "history turn 1: role must be 'user' or 'assistant', got 'system'"
    assert messages[13] == "history turn 1: expected an object with role and content, got text"
    assert messages[14] == "id must be text, got true/false"
    assert str(errors[0]).startswith("line 2: not valid JSON")


def test_jsonl_history_as_strings_alternates_from_user() -> None:
    record = {"id": "h", "question": "And for my children?", "history": ["Can I bring my spouse?", "Yes, if...", "OK"]}
    items, _ = load_qa_text(_jsonl(record), "jsonl")
    assert items[0].history == (
        Turn("user", "Can I bring my spouse?"),
        Turn("assistant", "Yes, if..."),
        Turn("user", "OK"),
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), (None, None), ("yes", True), ("No", False), (1, True), (0, False), ("", None)],
)
def test_jsonl_should_refuse_values(value: object, expected: bool | None) -> None:
    items, errors = load_qa_text(_jsonl({"id": "r", "question": "Q", "should_refuse": value}), "jsonl")
    assert errors == []
    assert items[0].should_refuse is expected


def test_jsonl_list_fields_accept_semicolon_strings() -> None:
    record = {"id": "s", "question": "Q", "answer_keys": "90 days|three months; 180", "tags": "visa;;schengen"}
    items, _ = load_qa_text(_jsonl(record), "jsonl")
    assert items[0].answer_keys == ("90 days|three months", "180")
    assert items[0].tags == ("visa", "schengen")


def test_json_array_file_is_refused_with_a_hint(tmp_path: Path) -> None:
    path = _write(tmp_path / "qa.json", json.dumps([{"id": "a", "question": "Q"}], indent=2))
    with pytest.raises(DatasetError, match="JSON array"):
        load_qa(path)


def test_json_suffix_reads_json_lines(tmp_path: Path) -> None:
    items, errors = load_qa(_write(tmp_path / "qa.JSON", _jsonl({"id": "a", "question": "Q"})))
    assert (len(items), errors) == (1, [])


def test_jsonl_keeps_line_separator_inside_strings() -> None:
    text = '{"id": "u", "question": "one\u2028two"}\n{"id": "v", "question": "Q"}\n'
    items, errors = load_qa_text(text, "jsonl")
    assert errors == []
    assert [(i.question, i.line) for i in items] == [("one\u2028two", 1), ("Q", 2)]


# --- CSV ---

CSV_TEXT = (
    "id,Question,answer_keys,reference_sources,should_refuse,history,tags,difficulty\n"  # 1
    'c1,Who can get a Blue Card?,"20 000|20,000;job offer",corpus/pages/eu-blue-card.html,no,,work;blue-card,easy\n'  # 2
    'c2,"A question\nover two lines",["a;b"],"[""x.html"", ""y.html""]",YES,"[""Hi"", ""Hello""]",,\n'  # 3-4
    "c3,Q3,,,maybe,,,\n"  # 5
    "\n"  # 6
    "c1,Duplicate,,,,,,\n"  # 7
    ",No id,,,,,,\n"  # 8
    "c4,Q4,,,1,not json,,\n"  # 9
    "c5,Q5,[broken,,0,,,\n"  # 10
    "c6,Q6,,,,,,,too many\n"  # 11
    "c7,Q7\n"  # 12: fewer cells are empty ones
)


def test_csv_loads_items_and_reports_bad_rows_by_line(tmp_path: Path) -> None:
    items, errors = load_qa(_write(tmp_path / "qa.csv", CSV_TEXT))
    assert [(i.id, i.line) for i in items] == [("c1", 2), ("c2", 3), ("c7", 12)]
    c1, c2, c7 = items
    assert c1.answer_keys == ("20 000|20,000", "job offer")  # '|' stays inside one key
    assert c1.reference_sources == ("corpus/pages/eu-blue-card.html",)
    assert c1.should_refuse is False
    assert c1.tags == ("work", "blue-card")
    assert c1.extra == {"difficulty": "easy"}
    assert c2.question == "A question\nover two lines"
    assert c2.answer_keys == ("a;b",)  # a JSON array is not split further
    assert c2.reference_sources == ("x.html", "y.html")
    assert c2.should_refuse is True
    assert c2.history == (Turn("user", "Hi"), Turn("assistant", "Hello"))
    assert c2.extra == {"difficulty": ""}
    assert c7 == QAItem(id="c7", question="Q7", line=12)
    assert [(e.line, e.message) for e in errors] == [
        (5, "should_refuse must be true/false/yes/no/1/0 or empty, got 'maybe'"),
        (7, "duplicate id 'c1' (first on line 2)"),
        (8, "missing id"),
        (9, "history must be a JSON array in CSV"),
        (10, "answer_keys is not a valid JSON array: Expecting value"),
        (11, "the row has 9 cells but the header has 8 columns"),
    ]


def test_csv_with_byte_order_mark_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "qa.csv"
    path.write_bytes("id,question,should_refuse\r\nb1,Q1,TRUE\r\nb2,Q2,\r\n".encode("utf-8-sig"))
    items, errors = load_qa(path)
    assert errors == []
    assert [(i.id, i.question, i.should_refuse, i.line) for i in items] == [
        ("b1", "Q1", True, 2),
        ("b2", "Q2", None, 3),
    ]


def test_csv_header_without_question_column() -> None:
    with pytest.raises(DatasetError, match="needs the columns id and question; it has: id, query"):
        load_qa_text("id,query\n1,What?\n", "csv")


def test_csv_header_with_repeated_column() -> None:
    with pytest.raises(DatasetError, match="repeats the column"):
        load_qa_text("id,question,tags,Tags\n1,Q,a,b\n", "csv")


def test_empty_files_load_nothing() -> None:
    assert load_qa_text("", "csv") == ([], [])
    assert load_qa_text("\n# nothing yet\n", "jsonl") == ([], [])


# --- whole-file errors ---


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="QA file not found") as caught:
        load_qa(tmp_path / "absent.jsonl")
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, EumaError)


def test_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"unknown QA file type '\.txt'; use \.jsonl, \.json or \.csv"):
        load_qa(_write(tmp_path / "qa.txt", "id,question\n"))


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "qa.csv"
    path.write_bytes("id,question\n1,Qu'est-ce qu'un réfugié ?\n".encode("latin-1"))
    with pytest.raises(DatasetError, match="not UTF-8"):
        load_qa(path)


def test_unknown_upload_format() -> None:
    with pytest.raises(DatasetError, match="use jsonl, json or csv"):
        load_qa_text("", "xlsx")
    assert load_qa_text('{"id": "a", "question": "Q"}', ".JSONL")[0][0].id == "a"


def test_row_error_reads_as_a_line() -> None:
    assert str(RowError(4, "missing id")) == "line 4: missing id"
