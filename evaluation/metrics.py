"""Evaluation metrics: pure functions over plain data, every score in [0, 1].

Retrieval is scored against reference sources (page or section level), answers against key facts and a
reference answer, citations with ALCE's recall (faithfulness) and precision through an injected ``supports`` verifier,
refusals as a binary classifier; ``aggregate`` turns per-question rows into means overall and per tag.
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypedDict
from urllib.parse import unquote, urlsplit

import numpy as np
import numpy.typing as npt

Level = Literal["page", "section"]
Supports = Callable[[str, Sequence[str]], bool]
"""The verifier: does this list of passage texts, taken together, support the sentence?"""

NDCG_DEPTH = 10


# --- Source matching -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetrievedRef:
    """Where a retrieved passage comes from: page address, deep link, title and the official source it summarises."""

    url: str
    link: str
    title: str
    source_url: str = ""


def _is_absolute(address: str) -> bool:
    parts = urlsplit(address)
    return bool(parts.scheme and parts.netloc)


def normalize_address(address: str) -> str:
    """An address made comparable: no fragment or trailing '/'; if absolute, lower-case scheme and host, no "www."."""
    address = address.strip().split("#", 1)[0]
    if not _is_absolute(address):
        return address.removeprefix("./").rstrip("/")
    parts = urlsplit(address)
    host = parts.netloc.lower().removeprefix("www.")
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme.lower()}://{host}{parts.path.rstrip('/')}{query}"


def _last_segment(address: str) -> str:
    path = urlsplit(address).path if _is_absolute(address) else address.split("?", 1)[0]
    return path.rstrip("/").rsplit("/", 1)[-1]


def _address_match(reference: str, retrieved: RetrievedRef) -> bool:
    """Whether a normalised reference address names the retrieved page (or, if absolute, the source it summarises)."""
    if not reference:
        return False
    url = normalize_address(retrieved.url)
    if _is_absolute(reference):
        return reference == url or (bool(retrieved.source_url) and reference == normalize_address(retrieved.source_url))
    if reference == url or url.endswith("/" + reference):
        return True
    segment = _last_segment(reference)
    return bool(segment) and segment == _last_segment(url)


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def page_match(ref: str, retrieved: RetrievedRef) -> bool:
    """Whether a reference (page address with or without '#anchor', or page title) names the passage's page."""
    title = _fold(retrieved.title)
    return _address_match(normalize_address(ref), retrieved) or (bool(title) and _fold(ref) == title)


def section_match(ref: str, retrieved: RetrievedRef) -> bool:
    """Like ``page_match`` but a reference's '#anchor' must equal the deep link's; without an anchor, page level."""
    address, _, anchor = ref.strip().partition("#")
    if not anchor:
        return page_match(ref, retrieved)
    link_anchor = retrieved.link.partition("#")[2]
    return unquote(anchor) == unquote(link_anchor) and _address_match(normalize_address(address), retrieved)


# --- Retrieval scores ------------------------------------------------------------------------------


def _credited_gains(matches: Sequence[Sequence[int]]) -> list[int]:
    """Binary gains in rank order where each reference credits at most one passage.

    Credits are a bipartite matching built rank by rank (a passage may take over a reference from an earlier
    passage that has another one to fall back on), so the gains do not depend on the order of the references.
    """
    credited: dict[int, int] = {}  # reference index -> rank index of the passage it credits

    def credit(item: int, seen: set[int]) -> bool:
        for ref in matches[item]:
            if ref in seen:
                continue
            seen.add(ref)
            if ref not in credited or credit(credited[ref], seen):
                credited[ref] = item
                return True
        return False

    return [int(credit(item, set())) for item in range(len(matches))]


def _dcg(gains: Sequence[int]) -> float:
    return sum(gain / math.log2(rank + 1) for rank, gain in enumerate(gains, start=1))


def retrieval_scores(
    retrieved: Sequence[RetrievedRef], references: Sequence[str], k: int, level: Level = "page"
) -> dict[str, float]:
    """hit@1, hit@k, recall@k, mrr@k and ndcg@10 of a ranked list against reference sources; {} without references.

    A passage that repeats an already credited reference earns no nDCG gain, and the ideal DCG counts
    min(len(references), 10) relevant passages. Identical reference strings count once.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if level not in ("page", "section"):
        raise ValueError(f"level must be 'page' or 'section', got {level!r}")
    refs = list(dict.fromkeys(r.strip() for r in references if r.strip()))
    if not refs:
        return {}
    match = page_match if level == "page" else section_match
    ranked = retrieved[: max(k, NDCG_DEPTH)]
    matches = [[j for j, ref in enumerate(refs) if match(ref, passage)] for passage in ranked]
    top = matches[:k]
    first = next((rank for rank, found in enumerate(top, start=1) if found), None)
    covered = {j for found in top for j in found}
    ideal = _dcg([1] * min(len(refs), NDCG_DEPTH))
    return {
        "hit@1": float(bool(matches and matches[0])),
        f"hit@{k}": float(first is not None),
        f"recall@{k}": len(covered) / len(refs),
        f"mrr@{k}": 1.0 / first if first else 0.0,
        f"ndcg@{NDCG_DEPTH}": _dcg(_credited_gains(matches[:NDCG_DEPTH])) / ideal,
    }


# --- Answer content ----------------------------------------------------------------------------------

_PUNCTUATION_MAP = str.maketrans(
    {
        **dict.fromkeys("‘’‚‛′", "'"),
        **dict.fromkeys("“”„‟″«»", '"'),
        **dict.fromkeys("‐‑‒–—―−", "-"),
    }
)
# 1-3 digits, then groups of exactly 3 digits all after the same separator: "20,000", "20 000", "1.000.000".
# A comma followed by a space is a list ("1, 2"), never a thousands separator.
_THOUSANDS = re.compile(r"(?<!\d)(?<!\d[.,])\d{1,3}([ .,])\d{3}(?:\1\d{3})*(?!\d)")


def normalize_fact_text(text: str) -> str:
    """Text as key facts are matched: case-folded, plain quotes and dashes, single spaces, no thousands separators."""
    text = unicodedata.normalize("NFKC", text).translate(_PUNCTUATION_MAP).casefold()
    text = " ".join(text.split())
    return _THOUSANDS.sub(lambda m: re.sub(r"\D", "", m.group(0)), text)


def _contains_fact(text: str, fact: str) -> bool:
    """Substring match, except that a number must not continue into more digits ("18" is not in "2018" or "1.8")."""
    pattern = re.escape(fact)
    if fact[0].isdigit():
        pattern = r"(?<!\d)(?<!\d\.)" + pattern
    if fact[-1].isdigit():
        pattern += r"(?!\.?\d)"
    return re.search(pattern, text) is not None


def key_fact_recall(answer: str, keys: Sequence[str]) -> float | None:
    """Share of key facts found in the answer; "a|b" is found when either alternative is; None without keys."""
    alternatives = [[alt for alt in (normalize_fact_text(a) for a in key.split("|")) if alt] for key in keys]
    alternatives = [alts for alts in alternatives if alts]
    if not alternatives:
        return None
    text = normalize_fact_text(answer)
    found = sum(any(_contains_fact(text, alt) for alt in alts) for alts in alternatives)
    return found / len(alternatives)


_ARTICLES = re.compile(r"\b(?:a|an|the)\b")


def _squad_tokens(text: str) -> list[str]:
    text = "".join(
        ch for ch in text.lower() if ch not in string.punctuation and not unicodedata.category(ch).startswith("P")
    )
    return _ARTICLES.sub(" ", text).split()


def token_f1(answer: str, reference: str) -> float | None:
    """SQuAD-style bag-of-tokens F1 (lower-case, no punctuation or articles); None without a reference answer."""
    if not reference.strip():
        return None
    predicted, gold = _squad_tokens(answer), _squad_tokens(reference)
    if not predicted or not gold:
        return float(predicted == gold)
    common = sum((Counter(predicted) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def cosine(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Cosine similarity floored at 0 (opposite is as wrong as unrelated) so it is a score; 0 for a zero vector."""
    u = np.asarray(a, dtype=np.float64).ravel()
    v = np.asarray(b, dtype=np.float64).ravel()
    if u.shape != v.shape:
        raise ValueError(f"vectors differ in length: {u.size} and {v.size}")
    norms = float(np.linalg.norm(u)) * float(np.linalg.norm(v))
    if norms == 0.0:
        return 0.0
    return min(1.0, max(0.0, float(np.dot(u, v)) / norms))


# --- Faithfulness and citations (ALCE) ----------------------------------------------------------------


@dataclass(frozen=True)
class CitedSentence:
    """One sentence of an answer with the citation numbers it carries."""

    text: str
    cited: tuple[int, ...]


def _jointly_supported(sentence: CitedSentence, passages: Mapping[int, str], supports: Supports) -> bool:
    """Whether the sentence's cited passages together support it; no citation or an unknown number means no."""
    cited = list(dict.fromkeys(sentence.cited))
    if not cited or any(n not in passages for n in cited):
        return False
    return supports(sentence.text, [passages[n] for n in cited])


def faithfulness(sentences: Sequence[CitedSentence], passages: Mapping[int, str], supports: Supports) -> float | None:
    """Share of sentences supported by the passages they cite; None when there are no sentences.

    This is also ALCE's citation recall (a sentence without citations, or citing an unknown number, counts as
    unsupported), so the evaluation reports it once, as faithfulness.
    """
    if not sentences:
        return None
    return sum(_jointly_supported(s, passages, supports) for s in sentences) / len(sentences)


def citation_precision(
    sentences: Sequence[CitedSentence], passages: Mapping[int, str], supports: Supports
) -> float | None:
    """ALCE citation precision: share of all citations that are not irrelevant; None when nothing is cited.

    As in ALCE, when a sentence's full citation set does not support it, all its citations are imprecise.
    Otherwise a citation is imprecise only if it alone does not support the sentence and the other citations
    still do without it. Repeated numbers in one sentence count once. Unlike ALCE, which leaves citations of
    unknown passages out of the count, such a sentence counts all its citations as imprecise: an invented
    citation is an error, not a gap.
    """
    total = precise = 0
    for sentence in sentences:
        cited = list(dict.fromkeys(sentence.cited))
        total += len(cited)
        if not _jointly_supported(sentence, passages, supports):
            continue
        for n in cited:
            others = [passages[m] for m in cited if m != n]
            irrelevant = not supports(sentence.text, [passages[n]]) and bool(others) and supports(sentence.text, others)
            precise += not irrelevant
    return precise / total if total else None


# --- Refusals ------------------------------------------------------------------------------------------


class RefusalScores(TypedDict):
    """Refusal as a binary classifier: counts and rates (None where the denominator is 0)."""

    tp: int
    fp: int
    fn: int
    tn: int
    refusal_precision: float | None
    refusal_recall: float | None
    false_refusal_rate: float | None


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def refusal_scores(pairs: Sequence[tuple[bool, bool]]) -> RefusalScores:
    """Precision, recall and false-refusal rate from (should_refuse, refused) of the questions where it is known."""
    tp = sum(should and refused for should, refused in pairs)
    fp = sum(refused and not should for should, refused in pairs)
    fn = sum(should and not refused for should, refused in pairs)
    tn = len(pairs) - tp - fp - fn
    return RefusalScores(
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
        refusal_precision=_ratio(tp, tp + fp),
        refusal_recall=_ratio(tp, tp + fn),
        false_refusal_rate=_ratio(fp, fp + tn),
    )


# --- Latency ---------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between ranks, as numpy's default."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"q must be between 0 and 100, got {q}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p95, mean and max in milliseconds (keys ``p50_ms``... and ``n``); {} when nothing was timed."""
    if not seconds:
        return {}
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "mean_ms": sum(ms) / len(ms),
        "max_ms": max(ms),
    }


# --- Aggregation ------------------------------------------------------------------------------------------


class Summary(TypedDict):
    """Mean of one metric over the questions that have a value for it, and how many those are."""

    mean: float | None
    n: int


class Aggregate(TypedDict):
    """Metric summaries over all questions and per tag."""

    overall: dict[str, Summary]
    by_tag: dict[str, dict[str, Summary]]


def _summarise(rows: Sequence[Mapping[str, float | None]]) -> dict[str, Summary]:
    values: dict[str, list[float]] = {}
    for row in rows:
        for metric, value in row.items():
            bucket = values.setdefault(metric, [])
            if value is not None and not math.isnan(value):
                bucket.append(float(value))
    return {m: Summary(mean=sum(v) / len(v) if v else None, n=len(v)) for m, v in values.items()}


def aggregate(rows: Sequence[Mapping[str, float | None]], tags: Sequence[Sequence[str]]) -> Aggregate:
    """Mean and count of each metric overall and per tag (tags sorted), skipping None and NaN values.

    ``tags[i]`` are the tags of ``rows[i]``; a metric whose values are all None is kept with mean None and n 0.
    """
    if len(rows) != len(tags):
        raise ValueError(f"{len(rows)} rows but {len(tags)} tag lists")
    by_tag: dict[str, list[Mapping[str, float | None]]] = {}
    for row, row_tags in zip(rows, tags, strict=True):
        if isinstance(row_tags, str):
            raise TypeError(f"tags of a row must be a sequence of strings, got the string {row_tags!r}")
        for tag in dict.fromkeys(row_tags):
            by_tag.setdefault(tag, []).append(row)
    return Aggregate(
        overall=_summarise(rows),
        by_tag={tag: _summarise(by_tag[tag]) for tag in sorted(by_tag)},
    )
