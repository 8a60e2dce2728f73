"""The assistant's hand-written rules (patterns, word lists, tables and tuned numbers), read from the TOML files next
to this module, each once, and checked as they are read.

Every entry of a file is a ``[[rule]]`` with a kebab-case ``id`` (unique across all the files), a one-line
``reason`` and one value: ``pattern`` (a regular expression, case-insensitive unless ``ignore_case = false``),
``words`` (a list), ``table`` (phrase -> text) or ``value`` (a number). A pattern may hold ``{{id}}``, another
pattern of the files marked ``fragment = true``, and ``{{name}}`` for each of its ``placeholders``, filled in when
it is used (``template``). A question pattern may carry ``kinds``, what it says the question asks for
(``assistant.classify``). Code refers to a rule by its id, so that a decision can name the rule that made it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

FILES = ("instructions", "question", "scope", "sentences", "lexicon", "thresholds", "messages")
VALUES = ("pattern", "words", "table", "value")
_OPTIONAL = {"fragment", "ignore_case", "placeholders", "kinds"}
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_SLOT = re.compile(r"\{\{([a-z0-9-]+)\}\}")


class RulesError(ValueError):
    """A rule file that cannot be used: bad TOML, a missing field, a duplicate id, a pattern that does not compile."""


@dataclass(frozen=True)
class Rule:
    """One entry of a rule file."""

    id: str
    reason: str
    file: str
    kind: str  # which value it holds: one of VALUES
    data: Any
    ignore_case: bool = True
    fragment: bool = False
    placeholders: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()


def _read(file: str) -> list[Rule]:
    path = resources.files(__package__).joinpath(f"{file}.toml")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RulesError(f"{file}.toml: {exc}") from exc
    out = []
    for n, entry in enumerate(raw.get("rule", []), start=1):
        where = f"{file}.toml, rule {n} ({entry.get('id', 'no id')})"
        if not isinstance(entry.get("id"), str) or not _ID.match(entry["id"]):
            raise RulesError(f"{where}: 'id' must be kebab-case text")
        if not isinstance(entry.get("reason"), str) or not entry["reason"].strip() or "\n" in entry["reason"]:
            raise RulesError(f"{where}: 'reason' must be one line of text")
        values = [k for k in VALUES if k in entry]
        if len(values) != 1:
            raise RulesError(f"{where}: needs exactly one of {', '.join(VALUES)} (has {values or 'none'})")
        unknown = set(entry) - {"id", "reason", *VALUES, *_OPTIONAL}
        if unknown:
            raise RulesError(f"{where}: unknown fields {sorted(unknown)}; valid: {sorted({*VALUES, *_OPTIONAL})}")
        kind = values[0]
        data = entry[kind]
        ok = {
            "pattern": isinstance(data, str) and bool(data),
            "words": isinstance(data, list) and bool(data) and all(isinstance(w, str) and w for w in data),
            "table": isinstance(data, dict) and bool(data) and all(isinstance(v, str) for v in data.values()),
            "value": isinstance(data, int | float) and not isinstance(data, bool),
        }[kind]
        if not ok:
            raise RulesError(f"{where}: '{kind}' has the wrong type or is empty")
        out.append(
            Rule(
                entry["id"],
                entry["reason"].strip(),
                file,
                kind,
                data,
                ignore_case=bool(entry.get("ignore_case", True)),
                fragment=bool(entry.get("fragment", False)),
                placeholders=tuple(entry.get("placeholders", ())),
                kinds=tuple(entry.get("kinds", ())),
            )
        )
    return out


@cache
def _all() -> Mapping[str, Rule]:
    """Every rule by id, all files read and checked (unique ids, fragments known, patterns compiling)."""
    by_id: dict[str, Rule] = {}
    for file in FILES:
        for rule in _read(file):
            if rule.id in by_id:
                raise RulesError(f"{file}.toml: id {rule.id!r} is also in {by_id[rule.id].file}.toml")
            by_id[rule.id] = rule
    for rule in by_id.values():
        if rule.kind == "pattern":
            sample = {name: "x" for name in rule.placeholders}
            try:
                re.compile(_expand(rule, by_id, sample), _flags(rule))
            except (re.error, RulesError) as exc:
                raise RulesError(f"{rule.file}.toml, {rule.id}: {exc}") from exc
    return MappingProxyType(by_id)


def _flags(rule: Rule) -> int:
    return re.IGNORECASE if rule.ignore_case else 0


def _expand(rule: Rule, by_id: Mapping[str, Rule], values: Mapping[str, str], depth: int = 0) -> str:
    """The pattern's text with its fragments and placeholders filled in (values already escaped)."""
    if depth > 5:
        raise RulesError("fragments nest too deep")

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in rule.placeholders:
            return values[name]
        fragment = by_id.get(name)
        if fragment is None or fragment.kind != "pattern" or not fragment.fragment:
            raise RulesError(f"{{{{{name}}}}} is neither a fragment nor one of its placeholders")
        return f"(?:{_expand(fragment, by_id, values, depth + 1)})"

    return _SLOT.sub(fill, rule.data)


def rule(rule_id: str) -> Rule:
    """The rule with this id; KeyError naming the id when there is none."""
    try:
        return _all()[rule_id]
    except KeyError:
        raise KeyError(f"no rule {rule_id!r} in assistant/rules/*.toml") from None


def _of(rule_id: str, kind: str) -> Rule:
    found = rule(rule_id)
    if found.kind != kind:
        raise TypeError(f"rule {rule_id!r} holds a {found.kind}, not a {kind}")
    return found


def entries(file: str) -> list[Rule]:
    """The rules of one file (``FILES``), in the file's order."""
    return list(_entries(file))


@cache
def _entries(file: str) -> tuple[Rule, ...]:
    if file not in FILES:
        raise ValueError(f"no rule file {file!r}; valid: {', '.join(FILES)}")
    return tuple(r for r in _all().values() if r.file == file)


@cache
def pattern(rule_id: str) -> re.Pattern[str]:
    """A pattern rule, compiled."""
    found = _of(rule_id, "pattern")
    if found.placeholders:
        raise TypeError(f"rule {rule_id!r} has placeholders {found.placeholders}: use template()")
    return re.compile(_expand(found, _all(), {}), _flags(found))


def template(rule_id: str, **values: str) -> re.Pattern[str]:
    """A pattern rule with its placeholders filled in by ``values`` (matched literally)."""
    found = _of(rule_id, "pattern")
    if set(values) != set(found.placeholders):
        raise TypeError(f"rule {rule_id!r} takes {found.placeholders}, given {tuple(values)}")
    return re.compile(_expand(found, _all(), {k: re.escape(v) for k, v in values.items()}), _flags(found))


@cache
def words(rule_id: str) -> frozenset[str]:
    """A word-list rule as a set."""
    return frozenset(_of(rule_id, "words").data)


def word_list(rule_id: str) -> tuple[str, ...]:
    """A word-list rule in the file's order."""
    return tuple(_of(rule_id, "words").data)


def table(rule_id: str) -> Mapping[str, str]:
    """A table rule (key -> text), in the file's order."""
    return MappingProxyType(_of(rule_id, "table").data)


def value(rule_id: str) -> float:
    """A number rule."""
    return float(_of(rule_id, "value").data)


def count(rule_id: str) -> int:
    """A number rule that is a whole number (a count, a size)."""
    data = _of(rule_id, "value").data
    if not isinstance(data, int):
        raise TypeError(f"rule {rule_id!r} is {data}, not a whole number")
    return data
