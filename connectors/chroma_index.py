"""VectorIndex over Chroma: embedded PersistentClient, or HttpClient for a server.

We always pass our own vectors: Chroma's default embedding function would try
to download a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from agent.errors import ConfigError, StoreError
from agent.ports import Chunk, ChunkHit

_MAX_BATCH = 2000


def open_chroma_client(*, url: str | None, path: Path) -> Any:
    """A Chroma client for a server URL, or an embedded one under `path`."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if url:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ConfigError(f"vector_store.url: {url!r} is not an http(s) URL")
        port = parsed.port or (443 if parsed.scheme == "https" else 8000)
        try:
            return chromadb.HttpClient(
                host=parsed.hostname, port=port, ssl=parsed.scheme == "https", settings=settings
            )
        except Exception as exc:  # chromadb raises plain Exceptions for connection errors
            raise StoreError(f"cannot reach the Chroma server at {url}: {exc}") from exc
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


class ChromaIndex:
    """One collection of proposal chunks, cosine space."""

    def __init__(self, client: Any, collection: str) -> None:
        self._collection = client.get_or_create_collection(
            collection, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )

    def replace(
        self, uid: str, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]
    ) -> None:
        self.remove(uid)
        for start in range(0, len(chunks), _MAX_BATCH):
            part = chunks[start : start + _MAX_BATCH]
            self._collection.add(
                ids=[c.id for c in part],
                embeddings=[[float(x) for x in v] for v in vectors[start : start + _MAX_BATCH]],
                documents=[c.text for c in part],
                metadatas=[dict(c.metadata) for c in part],
            )

    def relabel(self, uid: str, metadata: dict[str, str | int | float | bool]) -> int:
        found = self._collection.get(where={"proposal_uid": uid}, include=["metadatas"])
        ids = found["ids"]
        if ids:
            metas = [{**(m or {}), **metadata} for m in found["metadatas"]]
            self._collection.update(ids=ids, metadatas=metas)
        return len(ids)

    def vectors(self, uid: str) -> list[list[float]]:
        found = self._collection.get(
            where={"proposal_uid": uid}, include=["embeddings", "metadatas"]
        )
        pairs = zip(found["metadatas"], found["embeddings"], strict=True)
        ordered = sorted(pairs, key=lambda mv: int((mv[0] or {}).get("chunk", 0)))
        return [[float(x) for x in v] for _, v in ordered]

    def remove(self, uid: str) -> None:
        self._collection.delete(where={"proposal_uid": uid})

    def query(
        self, vector: Sequence[float], *, limit: int, where: dict[str, Any] | None = None
    ) -> list[ChunkHit]:
        result = self._collection.query(
            query_embeddings=[[float(x) for x in vector]],
            n_results=limit,
            where=where or None,
            include=["documents", "metadatas", "distances"],
        )
        hits = []
        for cid, doc, meta, dist in zip(
            result["ids"][0],
            result["documents"][0],
            result["metadatas"][0],
            result["distances"][0],
            strict=True,
        ):
            meta = dict(meta or {})
            hits.append(
                ChunkHit(
                    chunk_id=cid,
                    proposal_uid=str(meta.get("proposal_uid", "")),
                    text=doc or "",
                    distance=float(dist),
                    metadata=meta,
                )
            )
        return hits

    def count(self) -> int:
        return int(self._collection.count())
