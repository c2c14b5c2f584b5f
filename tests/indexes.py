"""The vector index as the app builds it (passages in the store, vectors in Chroma)."""

from __future__ import annotations

from pathlib import Path

from agent.passage_index import PassageIndex
from agent.store import RecordStore
from connectors.chroma_index import ChromaVectors, open_chroma_client


def chroma_index(
    store: RecordStore, path: Path, name: str, *, url: str | None = None
) -> PassageIndex:
    """A `PassageIndex` over `store` and a Chroma under `path` (or the server at `url`)."""
    return PassageIndex(store, ChromaVectors(open_chroma_client(url=url, path=path), name))
