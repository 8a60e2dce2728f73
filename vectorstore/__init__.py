"""The store and the embeddings: the one contract that ingest and serving share."""

from vectorstore.errors import ConfigError, EmbeddingError, EumaError, ModelMismatchError, StoreError
from vectorstore.records import Chunk, DocumentRecord
from vectorstore.settings import Settings
from vectorstore.store import Store

__all__ = [
    "Chunk",
    "ConfigError",
    "DocumentRecord",
    "EmbeddingError",
    "EumaError",
    "ModelMismatchError",
    "Settings",
    "Store",
    "StoreError",
]
