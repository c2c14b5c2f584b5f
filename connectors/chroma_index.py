"""VectorIndex over Chroma: embedded PersistentClient, or HttpClient for a server.

We always pass our own vectors: Chroma's default embedding function would try
to download a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from agent.errors import ConfigError, StoreError
from agent.ports import Chunk, ChunkHit

_MAX_BATCH = 2000
_MAX_IN = 500  # values per `$in` filter


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
        self.replace_many([(uid, chunks, vectors)])

    def replace_many(
        self, items: Sequence[tuple[str, Sequence[Chunk], Sequence[Sequence[float]]]]
    ) -> None:
        """One delete for all the proposals, then adds of up to _MAX_BATCH chunks.

        Chroma's cost is per call far more than per row: a delete and an add per
        proposal ran at about a third of the bulk rate.
        """
        uids = [uid for uid, _, _ in items]
        for start in range(0, len(uids), _MAX_IN):
            part = uids[start : start + _MAX_IN]
            self._collection.delete(
                where={"proposal_uid": part[0] if len(part) == 1 else {"$in": part}}
            )
        chunks = [c for _, cs, _ in items for c in cs]
        vectors = np.asarray([v for _, _, vs in items for v in vs], dtype=np.float32)
        for start in range(0, len(chunks), _MAX_BATCH):
            part = chunks[start : start + _MAX_BATCH]
            self._collection.add(
                ids=[c.id for c in part],
                embeddings=vectors[start : start + _MAX_BATCH],
                documents=[c.text for c in part],
                metadatas=[dict(c.metadata) for c in part],
            )

    def vectors_for(self, text_keys: Sequence[str]) -> dict[str, list[float]]:
        found: dict[str, list[float]] = {}
        for start in range(0, len(text_keys), _MAX_IN):
            part = list(text_keys[start : start + _MAX_IN])
            where = {"text_key": part[0] if len(part) == 1 else {"$in": part}}
            got = self._collection.get(where=where, include=["embeddings", "metadatas"])
            for meta, vector in zip(got["metadatas"], got["embeddings"], strict=True):
                found[str((meta or {}).get("text_key"))] = [float(x) for x in vector]
        return found

    def relabel(self, uid: str, metadata: dict[str, str | int | float | bool]) -> int:
        found = self._collection.get(where={"proposal_uid": uid}, include=["metadatas"])
        ids = found["ids"]
        if ids:
            metas = [{**(m or {}), **metadata} for m in found["metadatas"]]
            self._collection.update(ids=ids, metadatas=metas)
        return len(ids)

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
