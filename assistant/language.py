"""The language of a question: detected with py3langid among the 24 official EU languages.

Short questions carry little evidence ("Eurodac?" scores as Estonian), so a detection below ``MIN_CONFIDENCE`` gives
way to a hint (the language chosen in the app, or that of the conversation so far), and with no hint to English,
the language of the sources. The result says which of these decided.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

EU_LANGUAGES = (
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr",
    "hu", "it", "lt", "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv",
)  # fmt: skip
SOURCE_LANGUAGE = "en"
# The languages' English names, for prompts that tell a language model which one to write in.
ENGLISH_NAMES = {
    "bg": "Bulgarian", "cs": "Czech", "da": "Danish", "de": "German", "el": "Greek", "en": "English",
    "es": "Spanish", "et": "Estonian", "fi": "Finnish", "fr": "French", "ga": "Irish", "hr": "Croatian",
    "hu": "Hungarian", "it": "Italian", "lt": "Lithuanian", "lv": "Latvian", "mt": "Maltese", "nl": "Dutch",
    "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "sk": "Slovak", "sl": "Slovenian", "sv": "Swedish",
}  # fmt: skip
MIN_CONFIDENCE = 0.6  # py3langid's normalised probability

_lock = threading.Lock()
_identifier: Any = None


@dataclass(frozen=True)
class Detected:
    """A language code, the detector's confidence, and what decided it: detected, hint or default."""

    code: str
    confidence: float
    by: str


def _classifier() -> Any:
    global _identifier
    with _lock:
        if _identifier is None:
            import py3langid
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            identifier = LanguageIdentifier.from_modelpath(py3langid.langid.MODEL_DIR / MODEL_FILE, norm_probs=True)
            identifier.set_languages(list(EU_LANGUAGES))
            _identifier = identifier
    return _identifier


def detect(text: str, *, hint: str = "") -> Detected:
    """The language of ``text``; ``hint`` (a code) wins over an unsure detection."""
    try:
        code, confidence = _classifier().classify(text)
    except ImportError:  # the detector is not installed: English, the sources' language
        return Detected(hint or SOURCE_LANGUAGE, 0.0, "hint" if hint else "default")
    if confidence >= MIN_CONFIDENCE:
        return Detected(str(code), float(confidence), "detected")
    if hint in EU_LANGUAGES:
        return Detected(hint, float(confidence), "hint")
    return Detected(SOURCE_LANGUAGE, float(confidence), "default")
