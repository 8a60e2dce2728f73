"""What a question asks for, read from its words once, for every stage that needs to know.

``kinds`` gives the kinds of ``assistant/rules/question.toml`` whose patterns match: ``figure`` (an amount, a
duration or a date), ``date``, ``how-many``, ``asks-who``, ``list``, ``definition``, ``refers-back``,
``case-outcome``, and ``instruction`` when a pattern of ``instructions.toml`` matches. ``matched`` names the rule
that gave a kind, so that a decision taken on it can say which rule fired.
"""

from __future__ import annotations

from functools import lru_cache

from assistant import rules

INSTRUCTION = "instruction"


@lru_cache(maxsize=1)
def _question_rules() -> tuple[rules.Rule, ...]:
    return tuple(r for r in rules.entries("question") if r.kinds)


@lru_cache(maxsize=1)
def _instruction_rules() -> tuple[rules.Rule, ...]:
    return tuple(r for r in rules.entries("instructions") if not r.fragment)


@lru_cache(maxsize=1024)
def _matches(question: str) -> tuple[tuple[str, str], ...]:
    """(kind, rule id) for every question pattern that matches, in the file's order."""
    text = question.strip()
    return tuple((kind, r.id) for r in _question_rules() if rules.pattern(r.id).search(text) for kind in r.kinds)


def kinds(question: str) -> frozenset[str]:
    """What the question asks for (see the module's docstring)."""
    found = {kind for kind, _ in _matches(question)}
    if instruction(question):
        found.add(INSTRUCTION)
    return frozenset(found)


def matched(question: str, kind: str) -> str:
    """The id of the first rule that gives the question ``kind``; '' when none does."""
    if kind == INSTRUCTION:
        return instruction(question)
    return next((rule_id for k, rule_id in _matches(question) if k == kind), "")


def instruction(question: str) -> str:
    """The id of the first pattern of ``instructions.toml`` that the question matches (an attempt to change the
    assistant's instructions or role); '' when none does."""
    for r in _instruction_rules():
        if rules.pattern(r.id).search(question):
            return r.id
    return ""


def defined_term(question: str) -> str:
    """The term a definition question asks about, lower case (the words in quotes, or X in "what is X?", "define
    X", "X meaning"); '' for other questions, or when the term is a pronoun or longer than a term."""
    match = rules.pattern("definition").match(question.strip())
    if match is None:
        return ""
    quoted = rules.pattern("quoted-term").search(question)
    term = quoted.group(1) if quoted else next(g for g in match.group("a", "b", "c") if g)
    term = term.strip(" '\"“”‘’").lower()
    if not 0 < len(term.split()) <= rules.count("max-term-words") or term in rules.words("definition-pronouns"):
        return ""
    return term
