"""Evaluation questions: a QA file (JSON Lines or CSV) read into items, a bad row reported rather than failing all.

Columns: id and question (required), reference_answer, answer_keys, reference_sources, should_refuse, history,
language, tags; any other column is kept in ``extra``. List columns take a list or a ';'-separated string
(in CSV, a JSON array or such a string). In ``answer_keys`` a '|' separates alternatives within one key.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.errors import EumaError

SUFFIXES = {".jsonl": "jsonl", ".json": "jsonl", ".csv": "csv"}
FORMATS = {"jsonl": "jsonl", "json": "jsonl", "csv": "csv"}
ROLES = ("user", "assistant")
COLUMNS = (
    "id",
    "question",
    "reference_answer",
    "answer_keys",
    "reference_sources",
    "should_refuse",
    "history",
    "language",
    "tags",
)
LIST_COLUMNS = ("answer_keys", "reference_sources", "tags")
_TRUE = ("true", "yes", "1")
_FALSE = ("false", "no", "0")


class DatasetError(EumaError, ValueError):
    """A QA file cannot be read at all (missing, unknown type, not UTF-8, no id/question columns)."""


@dataclass(frozen=True)
class Turn:
    """One earlier message of the conversation a question continues."""

    role: str
    content: str


@dataclass(frozen=True)
class QAItem:
    """One evaluation question with what a good answer should contain, cite or do."""

    id: str
    question: str
    reference_answer: str = ""
    answer_keys: tuple[str, ...] = ()
    reference_sources: tuple[str, ...] = ()
    should_refuse: bool | None = None  # None: the file does not say
    history: tuple[Turn, ...] = ()
    language: str = ""
    tags: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, hash=False)  # unknown columns, carried to the output
    line: int = 0  # 1-based line (JSONL) or starting line of the row (CSV)


@dataclass(frozen=True)
class RowError:
    """A row that could not be loaded, with its 1-based line number."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class _BadRow(Exception):
    """A row cannot become a QAItem; the message says why."""


def load_qa(path: Path) -> tuple[list[QAItem], list[RowError]]:
    """Load a .jsonl/.json (JSON Lines) or .csv QA file: the good items and an error for each bad row."""
    if not path.is_file():
        raise DatasetError(f"QA file not found: {path}")
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise DatasetError(f"{path}: unknown QA file type {path.suffix or '(none)'!r}; use .jsonl, .json or .csv")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise DatasetError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise DatasetError(f"{path}: cannot be read ({e.strerror})") from None
    return load_qa_text(text, fmt)


def load_qa_text(text: str, fmt: str) -> tuple[list[QAItem], list[RowError]]:
    """Load QA items from text (an upload) in format "jsonl" (or "json", meaning JSON Lines) or "csv"."""
    kind = FORMATS.get(fmt.strip().lower().lstrip("."))
    if kind is None:
        raise DatasetError(f"unknown QA format {fmt!r}; use jsonl, json or csv")
    text = text.removeprefix("\ufeff")
    records = _jsonl_records(text) if kind == "jsonl" else _csv_records(text)
    return _load(records)


def _load(records: Iterable[tuple[int, Mapping[str, Any] | str]]) -> tuple[list[QAItem], list[RowError]]:
    """Items from (line, record or error message) pairs; later rows repeating an id are errors."""
    items: list[QAItem] = []
    errors: list[RowError] = []
    first_line: dict[str, int] = {}
    for line, record in records:
        if isinstance(record, str):
            errors.append(RowError(line, record))
            continue
        try:
            item = _item(record, line)
        except _BadRow as e:
            errors.append(RowError(line, str(e)))
            continue
        if item.id in first_line:
            errors.append(RowError(line, f"duplicate id {item.id!r} (first on line {first_line[item.id]})"))
            continue
        first_line[item.id] = line
        items.append(item)
    return items, errors


def _jsonl_records(text: str) -> Iterator[tuple[int, Mapping[str, Any] | str]]:
    # split on "\n" only: str.splitlines would also break at U+2028, which JSON allows inside strings
    lines = [raw.rstrip("\r") for raw in text.split("\n")]
    first = next((raw.strip() for raw in lines if raw.strip() and not raw.strip().startswith("#")), "")
    if first.startswith("["):
        raise DatasetError("the file looks like a JSON array; write one JSON object per line (JSON Lines)")
    for number, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            record = json.loads(stripped)
        except json.JSONDecodeError as e:
            yield number, f"not valid JSON: {e.msg} at column {e.colno}"
            continue
        if isinstance(record, dict):
            yield number, record
        else:
            yield number, f"expected a JSON object, got {_kind(record)}"


def _csv_records(text: str) -> Iterator[tuple[int, Mapping[str, Any] | str]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    end = 0
    try:
        for cells in reader:
            start, end = end + 1, reader.line_num  # a quoted cell may span several lines
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = _csv_header(cells)
                continue
            if len(cells) > len(header):
                yield start, f"the row has {len(cells)} cells but the header has {len(header)} columns"
                continue
            try:
                yield start, _csv_record(dict(zip(header, cells, strict=False)))
            except _BadRow as e:
                yield start, str(e)
    except csv.Error as e:
        raise DatasetError(f"CSV line {reader.line_num}: {e}") from None


def _csv_header(cells: list[str]) -> list[str]:
    """Column names: known ones matched case-insensitively, unknown ones kept as written; unnamed ones dropped."""
    names = [name.strip() for name in cells]
    header = [name.lower() if name.lower() in COLUMNS else name for name in names]
    named = [name for name in header if name]
    duplicates = sorted({name for name in named if named.count(name) > 1})
    if duplicates:
        raise DatasetError(f"the CSV header repeats the column(s) {', '.join(duplicates)}")
    if "id" not in header or "question" not in header:
        raise DatasetError(f"the CSV header needs the columns id and question; it has: {', '.join(named) or 'none'}")
    return header


def _csv_record(row: Mapping[str, str]) -> dict[str, Any]:
    """A CSV row as the values a JSON line would hold: list columns and history parsed, the rest as text."""
    record: dict[str, Any] = {}
    for name, cell in row.items():
        if not name:
            continue
        if name in (*LIST_COLUMNS, "history") and cell.strip().startswith("["):
            try:
                record[name] = json.loads(cell)
            except json.JSONDecodeError as e:
                raise _BadRow(f"{name} is not a valid JSON array: {e.msg}") from None
        elif name == "history":
            if cell.strip():
                raise _BadRow("history must be a JSON array in CSV")
            record[name] = None
        else:
            record[name] = cell
    return record


def _item(record: Mapping[str, Any], line: int) -> QAItem:
    item_id = _text(record.get("id"), "id", numbers=True)
    if not item_id:
        raise _BadRow("missing id")
    question = _text(record.get("question"), "question")
    if not question:
        raise _BadRow("missing question")
    return QAItem(
        id=item_id,
        question=question,
        reference_answer=_text(record.get("reference_answer"), "reference_answer"),
        answer_keys=_text_list(record.get("answer_keys"), "answer_keys"),
        reference_sources=_text_list(record.get("reference_sources"), "reference_sources"),
        should_refuse=_flag(record.get("should_refuse")),
        history=_history(record.get("history")),
        language=_text(record.get("language"), "language"),
        tags=_text_list(record.get("tags"), "tags"),
        extra={name: value for name, value in record.items() if name not in COLUMNS},
        line=line,
    )


def _kind(value: object) -> str:
    """How a JSON value is named in messages."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "null" if value is None else type(value).__name__


def _text(value: object, name: str, *, numbers: bool = False) -> str:
    """A text field, stripped; absent or null is ""; whole numbers are accepted where ``numbers`` is set."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if numbers and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise _BadRow(f"{name} must be text, got {_kind(value)}")


def _text_list(value: object, name: str) -> tuple[str, ...]:
    """A list of text from a list or a ';'-separated string, empty entries dropped."""
    if value is None:
        return ()
    if isinstance(value, str):
        parts = value.split(";")
    elif isinstance(value, list):
        parts = []
        for part in value:
            if isinstance(part, bool) or not isinstance(part, str | int):
                raise _BadRow(f"{name} must be a list of text, but it holds {_kind(part)}")
            parts.append(str(part))
    else:
        raise _BadRow(f"{name} must be a list of text or a ';'-separated string, got {_kind(value)}")
    return tuple(part.strip() for part in parts if part.strip())


def _flag(value: object) -> bool | None:
    """should_refuse from true/false/yes/no/1/0 (any case); absent, null or empty is None."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | str):
        word = str(value).strip().lower()
        if not word:
            return None
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise _BadRow(f"should_refuse must be true/false/yes/no/1/0 or empty, got {value!r}")


def _history(value: object) -> tuple[Turn, ...]:
    """Earlier turns: all strings (alternating user, assistant, user...) or all {"role", "content"} objects."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _BadRow(f"history must be a list of turns, got {_kind(value)}")
    if all(isinstance(turn, str) for turn in value):
        return tuple(Turn(ROLES[i % 2], turn) for i, turn in enumerate(value))
    turns = []
    for number, turn in enumerate(value, start=1):
        if not isinstance(turn, dict):
            raise _BadRow(f"history turn {number}: expected an object with role and content, got {_kind(turn)}")
        role, content = turn.get("role"), turn.get("content")
        if not isinstance(role, str) or role.strip().lower() not in ROLES:
            raise _BadRow(f"history turn {number}: role must be 'user' or 'assistant', got {role!r}")
        if not isinstance(content, str):
            raise _BadRow(f"history turn {number}: content must be text, got {_kind(content)}")
        turns.append(Turn(role.strip().lower(), content))
    return tuple(turns)
