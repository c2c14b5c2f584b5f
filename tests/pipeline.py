"""Builds the real pipeline (store, Chroma, MiniLM, Snapshot client) around a FakeHub."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.indexer import IndexCounts, sync_index
from agent.ingest import IngestCounts, ingest
from agent.ports import Embedder
from agent.settings import ChunkingSettings, SnapshotSettings
from agent.store import RecordStore
from connectors.snapshot import HubClient, SnapshotSource
from tests.indexes import chroma_index


@dataclass
class Pipeline:
    hub_url: str
    home: Path
    embedder: Embedder
    snapshot: dict[str, Any] = field(default_factory=dict)
    chroma_url: str | None = None
    sleeps: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.store = RecordStore(f"sqlite:///{self.home / 'steward.db'}")
        self.index = chroma_index(
            self.store, self.home / "chroma", "steward-test", url=self.chroma_url
        )
        self.embed_calls = 0

    def settings(self) -> SnapshotSettings:
        return SnapshotSettings(hub_url=self.hub_url, **self.snapshot)

    def source(self, spaces: list[str], **client_kw: Any) -> SnapshotSource:
        cfg = self.settings()
        client = HubClient(
            cfg.hub_url,
            # Generous: a loaded CI box can take over a second to answer, and a client that
            # gives up retries, so the injected failure a test waits for goes to the
            # abandoned attempt. Tests of hangs pass their own short timeout.
            timeout=client_kw.pop("timeout", 30.0),
            requests_per_minute=client_kw.pop("requests_per_minute", 10_000),
            max_retries=client_kw.pop("max_retries", cfg.max_retries),
            sleep=self.sleeps.append,
            **client_kw,
        )
        return SnapshotSource(client, cfg, spaces)

    def run(
        self, spaces: list[str], *, full: bool = False, votes: bool = True, **client_kw: Any
    ) -> tuple[IngestCounts, IndexCounts]:
        counts = ingest(self.source(spaces, **client_kw), self.store, full=full, votes=votes)
        return counts, self.reindex()

    def reindex(self) -> IndexCounts:
        def factory() -> Embedder:
            self.embed_calls += 1
            return self.embedder

        return sync_index(self.store, self.index, factory, ChunkingSettings())
