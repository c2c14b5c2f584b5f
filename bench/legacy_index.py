"""The vector layout before this change, kept only so the bench can measure both in one run.

A full Chroma collection (texts, metadata) per space, flagged proposals apart; a query
over all spaces asks every collection and merges by distance. This is
`connectors/chroma_index.py` as issue 14's first round left it, trimmed to what the
indexer and search call.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from agent.ports import Chunk, ChunkHit
from connectors.chroma_index import _MAX_BATCH, _MAX_IN, _hits


class PerSpaceIndex:
    """Chunks in one full cosine collection per space, flagged proposals apart."""

    def __init__(self, client: Any, collection: str) -> None:
        self._client = client
        self._prefix = collection
        self._open: dict[str, Any] = {}

    def _name(self, space: str, flagged: bool) -> str:
        digest = hashlib.sha256(space.encode()).hexdigest()[:20]
        return f"{self._prefix}.{digest}" + (".flagged" if flagged else "")

    def _collection(self, space: str, flagged: bool, *, create: bool = False) -> Any | None:
        name = self._name(space, flagged)
        if name not in self._open:
            if not create:
                names = {c.name for c in self._client.list_collections()}
                if name not in names:
                    return None
            self._open[name] = self._client.get_or_create_collection(
                name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
        return self._open[name]

    def _all(self, *, flagged: bool | None = None) -> list[Any]:
        out = []
        for col in self._client.list_collections():
            name = str(getattr(col, "name", col))
            if not name.startswith(self._prefix + "."):
                continue
            if flagged is None or name.endswith(".flagged") == flagged:
                if name not in self._open:
                    self._open[name] = self._client.get_collection(name, embedding_function=None)
                out.append(self._open[name])
        return out

    def _for(self, spaces: Sequence[str], include_flagged: bool) -> list[Any]:
        if not spaces:
            return self._all(flagged=None if include_flagged else False)
        flags = (False, True) if include_flagged else (False,)
        found = (self._collection(s, f) for s in dict.fromkeys(spaces) for f in flags)
        return [c for c in found if c is not None]

    def _write(self, rows: list[tuple[str, Any, str, Any]]) -> None:
        groups: dict[tuple[str, bool], list[tuple[str, Any, str, Any]]] = {}
        for row in rows:
            meta = row[3] or {}
            key = (str(meta.get("space", "")), bool(meta.get("flagged", False)))
            groups.setdefault(key, []).append(row)
        for (space, flagged), part in groups.items():
            col: Any = self._collection(space, flagged, create=True)
            for start in range(0, len(part), _MAX_BATCH):
                ids, vecs, docs, metas = zip(*part[start : start + _MAX_BATCH], strict=True)
                col.add(
                    ids=list(ids),
                    embeddings=np.asarray(vecs, dtype=np.float32),
                    documents=list(docs),
                    metadatas=[dict(m) for m in metas],
                )

    def replace_many(
        self, items: Sequence[tuple[str, Sequence[Chunk], Sequence[Sequence[float]]]]
    ) -> None:
        by_space: dict[str, list[str]] = {}
        for uid, chunks, _ in items:
            if chunks:
                by_space.setdefault(str(chunks[0].metadata.get("space", "")), []).append(uid)
        for space, uids in by_space.items():
            for col in self._for([space], include_flagged=True):
                for start in range(0, len(uids), _MAX_IN):
                    part = uids[start : start + _MAX_IN]
                    where = {"proposal_uid": part[0] if len(part) == 1 else {"$in": part}}
                    col.delete(where=where)
        self._write(
            [
                (c.id, v, c.text, c.metadata)
                for _, chunks, vectors in items
                for c, v in zip(chunks, vectors, strict=True)
            ]
        )

    def vectors_for(
        self, text_keys: Sequence[str], *, spaces: Sequence[str] = ()
    ) -> dict[str, list[float]]:
        found: dict[str, list[float]] = {}
        for col in self._for(spaces, include_flagged=True):
            for start in range(0, len(text_keys), _MAX_IN):
                part = list(text_keys[start : start + _MAX_IN])
                where = {"text_key": part[0] if len(part) == 1 else {"$in": part}}
                got = col.get(where=where, include=["embeddings", "metadatas"])
                for meta, vector in zip(got["metadatas"], got["embeddings"], strict=True):
                    found[str((meta or {}).get("text_key"))] = [float(x) for x in vector]
        return found

    def query(
        self,
        vector: Sequence[float],
        *,
        limit: int,
        spaces: Sequence[str] = (),
        uids: Sequence[str] = (),
        include_flagged: bool = False,
    ) -> list[ChunkHit]:
        where: dict[str, Any] | None = None
        if uids:
            where = {"proposal_uid": uids[0] if len(uids) == 1 else {"$in": list(uids)}}
        hits: list[ChunkHit] = []
        query = [np.asarray(vector, dtype=np.float32)]
        for col in self._for(spaces, include_flagged):
            result = col.query(
                query_embeddings=query,
                n_results=limit,
                where=where,
                include=["documents", "metadatas", "distances"],
            )
            hits += _hits(result)
        hits.sort(key=lambda h: h.distance)
        return hits[:limit]

    def count(self) -> int:
        return sum(int(col.count()) for col in self._all())
