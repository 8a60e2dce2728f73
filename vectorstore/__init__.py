"""The store and the embeddings: the one contract that ingest and serving share."""

from common.errors import ConfigError, EmbeddingError, EumaError, ModelMismatchError, StoreError
from common.settings import Settings
from vectorstore.records import Chunk, DocumentRecord
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
