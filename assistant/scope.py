"""Questions the assistant must not answer from its sources: empty or over-long ones, and attempts to instruct it.

Whether a question is about EU migration and asylum policy at all is decided by retrieval (the relevance floor);
``on_topic`` only chooses which refusal message fits.
"""

from __future__ import annotations

import re

from assistant.errors import QuestionError
from vectorstore.text import normalize, terms

# Phrasings that address the assistant's instructions or role rather than asking about policy.
_INSTRUCTION_PATTERNS = [
    r"\b(ignore|disregard|forget|override|bypass|skip)\b[^.?!]{0,40}\b(instruction|instructions|rules?|prompts?|"
    r"guidelines|guardrails|context|above|previous|prior|everything|restrictions|sources?)\b",
    r"\b(system|developer|hidden|initial|original)\s+(prompt|message|instructions?)\b",
    r"\b(reveal|print|show|repeat|output|display|leak|tell me)\b[^.?!]{0,30}\b(prompt|instructions|configuration|"
    r"rules you|guidelines)\b",
    r"\byou are (now|no longer|free|an? (?!eu\b)[a-z]+ (assistant|ai|model|bot) (that|who|which|without))",
    r"\b(pretend|act|behave|roleplay|role-play)\b[^.?!]{0,20}\b(as|like|to be)\b[^.?!]{0,30}\b(unrestricted|"
    r"jailbroken|different|another|evil|dan|without)\b",
    r"\bdo anything now\b|\bDAN\b|\bjailbreak|\bdeveloper mode\b|\bgod mode\b",
    r"\bnew (instructions|rules|persona|role)\b",
    r"\b(from now on|henceforth)\b[^.?!]{0,40}\b(you|answer|respond|reply)\b",
    r"\b(respond|answer|reply|write)\b[^.?!]{0,30}\b(without|ignoring)\b[^.?!]{0,20}\b(sources|citations|rules|"
    r"restrictions)\b",
    r"</?(system|assistant|user|instructions?)>|\[/?(inst|system)\]|<\|im_start\|>",
]
_INSTRUCTIONS = re.compile("|".join(f"(?:{p})" for p in _INSTRUCTION_PATTERNS), re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Words of the migration and asylum field (stemmed like the question before comparing).
_TOPIC_WORDS = """migration migrant migrants immigration immigrant emigration asylum refugee refugees protection border
    borders schengen visa visas residence resident permit permits citizen citizenship nationality national frontex
    eurodac deportation deported return returns readmission smuggling smuggler trafficking family families
    reunification integration worker workers job employment student students researcher seasonal blue talent
    passport travel traveller etias ees entry exit pact solidarity relocation resettlement reception detention
    screening crisis application applicant stay undocumented irregular illegal non-eu third-country member state
    union eu european commission council parliament regulation directive law legal rights ukraine displaced
    temporary safe unaccompanied child children minor language course fund amif statistics strategy portal consulate
    embassy""".split()
_TOPIC_STEMS = frozenset(terms(" ".join(_TOPIC_WORDS)))


def clean_question(question: object, *, max_chars: int) -> str:
    """The question as text, with control characters removed; QuestionError if it is empty or too long."""
    if not isinstance(question, str):
        raise QuestionError("the question must be text")
    text = normalize(_CONTROL.sub(" ", question))
    if not text:
        raise QuestionError("the question is empty: type a question about EU migration or asylum policy")
    if len(text) > max_chars:
        raise QuestionError(
            f"the question is too long ({len(text):,} characters; at most {max_chars:,}): shorten it to the point"
        )
    return text


def tries_to_instruct(question: str) -> bool:
    """Whether the question tries to change the assistant's instructions or role (prompt injection)."""
    return bool(_INSTRUCTIONS.search(question))


def on_topic(question: str) -> bool:
    """Whether the question uses any word of the migration and asylum field (only to word a refusal)."""
    return bool(set(terms(question)) & _TOPIC_STEMS)
