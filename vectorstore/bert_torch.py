"""A BERT-style encoder forward pass on torch, lean enough for one question: the same model sentence-transformers
runs, without its pipeline around each call.

Both models the assistant encodes questions with are such encoders (post-layer-norm transformer blocks, GELU, mean
pooling over the tokens): the bundled MiniLM (6 layers) and multilingual-e5-small (12 layers). Here their weights are
torch tensors, bfloat16 where the CPU computes it natively, and a batch of token ids goes through in one pass. For a
question this is a few milliseconds; sentence-transformers spends more on its own steps than on the model at that
size, and the numpy forward pass (``vectorstore.bert_numpy``) computes the model at numpy's pace.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class Layer:
    """One transformer block's weights (torch tensors): attention (query, key and value stacked) and feed-forward,
    each followed by a residual sum and layer normalisation."""

    qkv_w: Any
    qkv_b: Any
    out_w: Any
    out_b: Any
    norm1: tuple[Any, Any]
    up_w: Any
    up_b: Any
    down_w: Any
    down_b: Any
    norm2: tuple[Any, Any]


class TorchBert:
    """The encoder: ``word_rows(ids)`` gives the word embeddings of a batch of ids (float32 numpy), the rest are
    tensors. ``mean_vectors`` returns the mean token vector of each sequence (not yet unit length)."""

    def __init__(
        self,
        *,
        word_rows: Callable[[np.ndarray], np.ndarray],
        position: Any,
        token_type: Any,
        norm: tuple[Any, Any],
        layers: Sequence[Layer],
        heads: int,
        eps: float,
        bf16: bool,
    ) -> None:
        self.word_rows = word_rows
        self.position = position
        self.token_type = token_type
        self.norm = norm
        self.layers = list(layers)
        self.heads = heads
        self.eps = eps
        self.bf16 = bf16

    @classmethod
    def from_safetensors(cls, folder: Path, *, bf16: bool) -> TorchBert:
        """A Hugging Face BERT folder (``config.json``, ``model.safetensors``), as the bundled MiniLM ships."""
        import json

        import torch
        from safetensors.numpy import load_file

        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
            raise ValueError(f"{folder} is not a BERT model with GELU activations")
        raw = load_file(str(folder / "model.safetensors"))
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in raw else ""
        weights = {k[len(prefix) :]: torch.from_numpy(v.astype(np.float32)) for k, v in raw.items()}
        dtype = torch.bfloat16 if bf16 else torch.float32
        words = weights["embeddings.word_embeddings.weight"].numpy()

        def pair(name: str) -> tuple[Any, Any]:
            return weights[f"{name}.weight"], weights[f"{name}.bias"]

        layers = []
        for n in range(int(config["num_hidden_layers"])):
            at = f"encoder.layer.{n}"
            parts = [f"{at}.attention.self.{p}" for p in ("query", "key", "value")]
            layers.append(
                Layer(
                    qkv_w=torch.cat([weights[f"{p}.weight"] for p in parts]).to(dtype),
                    qkv_b=torch.cat([weights[f"{p}.bias"] for p in parts]).to(dtype),
                    out_w=weights[f"{at}.attention.output.dense.weight"].to(dtype),
                    out_b=weights[f"{at}.attention.output.dense.bias"].to(dtype),
                    norm1=pair(f"{at}.attention.output.LayerNorm"),
                    up_w=weights[f"{at}.intermediate.dense.weight"].to(dtype),
                    up_b=weights[f"{at}.intermediate.dense.bias"].to(dtype),
                    down_w=weights[f"{at}.output.dense.weight"].to(dtype),
                    down_b=weights[f"{at}.output.dense.bias"].to(dtype),
                    norm2=pair(f"{at}.output.LayerNorm"),
                )
            )
        return cls(
            word_rows=lambda ids: words[ids],
            position=weights["embeddings.position_embeddings.weight"],
            token_type=weights["embeddings.token_type_embeddings.weight"][0],
            norm=pair("embeddings.LayerNorm"),
            layers=layers,
            heads=int(config["num_attention_heads"]),
            eps=float(config.get("layer_norm_eps", 1e-12)),
            bf16=bf16,
        )

    def mean_vectors(self, sequences: Sequence[Sequence[int]], *, pad: int) -> np.ndarray:
        """The mean token vector of each sequence of token ids (float64, one row each), padded into one batch."""
        import torch
        import torch.nn.functional as F

        batch, longest = len(sequences), max(len(s) for s in sequences)
        ids = np.full((batch, longest), pad, dtype=np.int64)
        mask = np.zeros((batch, longest), dtype=bool)
        for row, sequence in enumerate(sequences):
            ids[row, : len(sequence)] = sequence
            mask[row, : len(sequence)] = True
        keep = torch.from_numpy(mask)
        hidden = self.position.shape[-1]
        with torch.inference_mode():
            x = torch.from_numpy(self.word_rows(ids)) + self.position[:longest] + self.token_type
            x = F.layer_norm(x, (hidden,), *self.norm, self.eps)
            if self.bf16:
                x = x.to(torch.bfloat16)
            attend = keep[:, None, None, :]
            for layer in self.layers:
                qkv = F.linear(x, layer.qkv_w, layer.qkv_b)
                q, k, v = qkv.view(batch, longest, 3, self.heads, hidden // self.heads).permute(2, 0, 3, 1, 4)
                context = F.scaled_dot_product_attention(q, k, v, attn_mask=attend)
                context = context.transpose(1, 2).reshape(batch, longest, hidden)
                x = self._add_norm(x, F.linear(context, layer.out_w, layer.out_b), layer.norm1)
                up = F.gelu(F.linear(x, layer.up_w, layer.up_b))
                x = self._add_norm(x, F.linear(up, layer.down_w, layer.down_b), layer.norm2)
            weights = keep[..., None].to(torch.float32)
            means = (x.to(torch.float32) * weights).sum(1) / weights.sum(1)
        return means.numpy().astype(np.float64)

    def _add_norm(self, x: Any, y: Any, norm: tuple[Any, Any]) -> Any:
        """Layer normalisation of the residual sum, computed in float32 and returned in x's precision."""
        import torch.nn.functional as F

        total = (x + y).float()
        return F.layer_norm(total, (total.shape[-1],), *norm, self.eps).to(x.dtype)


def unit(rows: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, as float32."""
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return (rows / np.maximum(norms, 1e-12)).astype(np.float32)


class TorchBertEncoder:
    """A BERT folder's encoder with its tokenizer: ``encode(texts)`` gives unit vectors, as ``NumpyBert`` does."""

    def __init__(self, folder: Path, *, max_length: int, bf16: bool) -> None:
        from tokenizers import Tokenizer

        self.model = TorchBert.from_safetensors(folder, bf16=bf16)
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_length)
        self.tokenizer.no_padding()  # the batch is padded, and masked, by ``mean_vectors``

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        return unit(self.model.mean_vectors([e.ids for e in self.tokenizer.encode_batch(list(texts))], pad=0))
