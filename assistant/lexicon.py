"""Everyday words people type, mapped to the words the policy pages use for the same thing.

People ask "I lost my papers", "will they lock me up?", "can my wife come?"; the pages say documents, detention,
spouse. A word the pages never use matches nothing lexically and, being rare, weighs most in the word-coverage
share that decides whether a passage answers at all. So retrieval also searches for the policy words, and a
passage or sentence that holds them is credited for the everyday word (``Alternatives``).

The list is general vocabulary of the field, written once for every question, not answers to particular ones.
A phrase is matched on whole words, case-insensitively; the longest phrase wins where two overlap.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

from vectorstore.text import terms

# everyday phrase -> policy words (space-separated). Keep entries general: a synonym, not a fact.
LAY_TERMS: dict[str, str] = {
    # documents and status
    "papers": "documents identity",
    "paperwork": "documents",
    "id": "identity document",
    "id card": "identity document",
    "without papers": "irregular undocumented",
    "no papers": "irregular undocumented",
    "illegally": "irregular irregularly",
    "illegal": "irregular",
    "sneaked in": "irregular entry",
    "snuck in": "irregular entry",
    "residence card": "residence permit",
    "stay permit": "residence permit",
    "work visa": "work permit single permit",
    "work permit": "single permit",
    "green light": "approval",
    "permanent residence": "long-term resident status",
    "permanent residency": "long-term resident status",
    "citizenship": "naturalisation nationality",
    # asylum and protection
    "asylum seeker": "applicant international protection",
    "asylum seekers": "applicants international protection",
    "refugee status": "international protection refugee",
    "protection status": "international protection",
    "claim": "application",
    "claims": "applications",
    "thrown out": "rejected dismissed",
    "throw out": "reject dismiss",
    "turned down": "rejected refused",
    "denied": "rejected refused",
    "say no": "reject refuse",
    "fast track": "accelerated procedure",
    "fast-track": "accelerated procedure",
    "fast-tracked": "accelerated procedure",
    "fast tracked": "accelerated procedure",
    "quicker": "accelerated faster",
    "challenge": "appeal remedy",
    "contest": "appeal remedy",
    "complain": "complaint",
    "lawyer": "legal assistance legal counselling representation",
    "free lawyer": "free legal assistance",
    "translator": "interpreter interpretation",
    "interview": "personal interview",
    "gay": "sexual orientation",
    "lesbian": "sexual orientation",
    "lgbt": "sexual orientation gender identity",
    "lgbtq": "sexual orientation gender identity",
    "religion": "religious",
    "war": "armed conflict",
    "tortured": "torture serious harm",
    "persecuted": "persecution",
    # people
    "kid": "child minor",
    "kids": "children minors",
    "son": "child",
    "daughter": "child",
    "baby": "child",
    "teenager": "minor child",
    "alone": "unaccompanied",
    "on my own": "unaccompanied",
    "wife": "spouse",
    "husband": "spouse",
    "partner": "spouse partner",
    "mum": "parents",
    "mom": "parents",
    "dad": "parents",
    "relatives": "family members",
    "family": "family members",
    "boss": "employer",
    "company": "employer undertaking",
    "grandparents": "family members ascendant",
    "pregnant": "vulnerable",
    "disabled": "disabilities vulnerable",
    "sick": "medical health",
    "ill": "medical health",
    # moving and returning
    "deport": "return removal",
    "deported": "return removal removed",
    "deportation": "return removal",
    "kicked out": "return removal",
    "sent back": "return removal",
    "send back": "return removal",
    "sent home": "return",
    "go home": "return voluntary departure",
    "going home": "return voluntary departure",
    "leave the country": "departure return",
    "locked up": "detention detained",
    "lock up": "detention detained",
    "lock me up": "detention detained",
    "jail": "detention",
    "prison": "detention",
    "camp": "reception centre facility",
    "shelter": "reception accommodation housing",
    "housing": "accommodation reception",
    "boat": "sea search and rescue disembarkation",
    "rescued": "search and rescue disembarked",
    "smugglers": "smuggling smuggler",
    "trafficker": "trafficking",
    "move to another country": "transfer relocation",
    "move to another eu country": "transfer mobility",
    "holiday": "short stay tourism",
    "vacation": "short stay tourism",
    "trip": "short stay",
    "overstay": "overstaying short stay",
    "ran out": "expired",
    "run out": "expired",
    # work, money and daily life
    "job": "work employment",
    "jobs": "work employment",
    "working": "work employment",
    "salary": "salary threshold pay",
    "wage": "pay salary",
    "wages": "pay salary",
    "paid less": "equal treatment pay",
    "underpaid": "equal treatment pay",
    "benefits": "social security social assistance",
    "welfare": "social assistance",
    "pocket money": "daily expenses allowance",
    "doctor": "healthcare medical",
    "hospital": "healthcare medical",
    "school": "education schooling",
    "university": "higher education studies student",
    "study": "student studies",
    "language classes": "language courses",
    "farm": "seasonal agriculture",
    "fruit picking": "seasonal agriculture",
    "tech job": "highly qualified",
    "skilled": "highly qualified skills",
    "recruit": "recruitment",
    "hire": "recruitment employer",
    # travel systems and procedures
    "fingerprinted": "fingerprints biometrics",
    "photo": "facial image biometrics",
    "border check": "screening checks",
    "border checks": "screening checks",
    "passport control": "border checks",
    "visa free": "visa-exempt visa-free",
    "visa-free": "visa-exempt",
    "price": "fee cost",
    "laws": "legal acts regulations directives",
    "eu countries": "member states",
    "eu country": "member state",
    "countries": "member states",
    "governments": "member states",
}

_NORMALISE = re.compile(r"[^\w\s-]+")


@dataclass(frozen=True)
class Alternatives:
    """The everyday words found in a question, each with the stemmed policy words that stand in for it."""

    by_term: Mapping[str, frozenset[str]] = field(default_factory=dict)  # everyday stem -> policy stems
    extra: str = ""  # the policy words, to search for alongside the question

    def held(self, term: str, present: set[str] | frozenset[str]) -> bool:
        """Whether ``term`` (a question stem) is present in a text, itself or through a policy word."""
        return term in present or bool(self.by_term.get(term, frozenset()) & present)


@cache
def _pattern() -> re.Pattern[str]:
    phrases = sorted(LAY_TERMS, key=len, reverse=True)
    return re.compile(r"(?<![\w-])(" + "|".join(re.escape(p) for p in phrases) + r")(?![\w-])", re.IGNORECASE)


def alternatives(question: str) -> Alternatives:
    """The everyday phrases of ``question`` and their policy words."""
    text = _NORMALISE.sub(" ", question.lower())
    by_term: dict[str, set[str]] = {}
    extra: list[str] = []
    for match in _pattern().finditer(text):
        official = LAY_TERMS[match.group(1).lower()]
        stems = set(terms(official))
        extra.append(official)
        for stem in terms(match.group(1)):
            by_term.setdefault(stem, set()).update(stems - {stem})
    return Alternatives({t: frozenset(s) for t, s in by_term.items() if s}, " ".join(extra))
