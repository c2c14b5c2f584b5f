"""The composition root: builds real stores and connectors from settings.

The only place that knows which connector backs which port. Heavy pieces
(Chroma, the embedding model) are built on first use, so commands that do not
need them start fast.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from pathlib import Path

from agent.ports import Embedder, ProposalSource, VectorIndex
from agent.settings import Settings
from agent.store import RecordStore


class App:
    """Everything a command needs, built lazily from one Settings object."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._embedder: Embedder | None = None

    @cached_property
    def store(self) -> RecordStore:
        return RecordStore(self.settings.database_url)

    @cached_property
    def index(self) -> VectorIndex:
        from connectors.chroma_index import ChromaIndex, open_chroma_client

        vs = self.settings.vector_store
        client = open_chroma_client(url=vs.url, path=self.settings.chroma_path)
        return ChromaIndex(client, vs.collection)

    def embedder(self) -> Embedder:
        if self._embedder is None:
            from connectors.embeddings import SentenceTransformerEmbedder

            cfg = self.settings.embedding
            self._embedder = SentenceTransformerEmbedder(
                cfg.model, batch_size=cfg.batch_size, device=cfg.device
            )
        return self._embedder

    @property
    def embedder_factory(self) -> Callable[[], Embedder]:
        return self.embedder

    def snapshot_source(self, spaces: list[str] | None = None) -> ProposalSource:
        from connectors.snapshot import HubClient, SnapshotSource

        cfg = self.settings.snapshot
        client = HubClient(
            cfg.hub_url,
            api_key=cfg.api_key.get_secret_value() if cfg.api_key else None,
            timeout=cfg.timeout_s,
            requests_per_minute=cfg.requests_per_minute,
            max_retries=cfg.max_retries,
            backoff_max=cfg.backoff_max_s,
        )
        return SnapshotSource(client, cfg, spaces or cfg.spaces)

    def archive_source(self, path: Path, space: str | None = None) -> ProposalSource:
        from connectors.archive import ArchiveSource

        return ArchiveSource(path, space=space)

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
