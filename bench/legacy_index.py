"""The vector layout before this change, kept only so the bench can measure both in one run.

Texts and metadata of every chunk in Chroma: one main collection for all spaces, a lean
vectors-only graph per space, flagged proposals apart. This is
`connectors/chroma_index.py` as issue 14's second round left it, trimmed to what the
indexer and search call (the move of older layouts on open is left out).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from agent.ports import Chunk, ChunkHit
from connectors.chroma_index import (
    HNSW_CONFIG,
    LEAN_HNSW_CONFIG,
    MAIN_HNSW_CONFIG,
)

_MAX_BATCH = 2000
_MAX_IN = 500  # values per `$in` filter
_FULL = ["documents", "metadatas", "distances"]


class TextInChromaIndex:
    """Chunks with texts and metadata in one main collection, a lean vectors-only graph
    per space, flagged apart (`connectors/chroma_index.py` before the texts moved to the
    record store)."""

    def __init__(self, client: Any, collection: str) -> None:
        self._client = client
        self._prefix = collection
        self._open: dict[str, Any] = {}

    # ---- layout ------------------------------------------------------------------
    @property
    def _main(self) -> str:
        return f"{self._prefix}.all"

    @property
    def _flagged(self) -> str:
        return f"{self._prefix}.flagged"

    def _lean(self, space: str) -> str:
        return f"{self._prefix}.space." + hashlib.sha256(space.encode()).hexdigest()[:20]

    def _config(self, name: str) -> dict[str, Any]:
        if name == self._main:
            return MAIN_HNSW_CONFIG
        return LEAN_HNSW_CONFIG if name.startswith(f"{self._prefix}.space.") else HNSW_CONFIG

    def _get(self, name: str, *, create: bool = False) -> Any | None:
        if name not in self._open:
            if create:
                col = self._client.get_or_create_collection(
                    name, embedding_function=None, configuration=self._config(name)
                )
            else:
                try:
                    col = self._client.get_collection(name, embedding_function=None)
                except _missing():
                    return None
            self._widen_search(col, self._config(name))
            self._open[name] = col
        return self._open[name]

    @staticmethod
    def _widen_search(col: Any, config: dict[str, Any]) -> None:
        """A collection made before its search width was raised gets it now (Chroma keeps
        a collection's first configuration; `ef_search` is one it lets us change)."""
        wanted = config["hnsw"].get("ef_search")
        hnsw = (getattr(col, "configuration", None) or {}).get("hnsw") or {}
        if wanted and hnsw.get("ef_search", wanted) < wanted:
            col.modify(configuration={"hnsw": {"ef_search": wanted}})

    def _names(self) -> list[str]:
        """Every collection of this index (listed anew: another process may add spaces)."""
        names = (str(getattr(col, "name", col)) for col in self._client.list_collections())
        return [n for n in names if n.startswith(self._prefix + ".")]

    def _existing(self, names: Sequence[str]) -> list[Any]:
        found = (self._get(n) for n in names)
        return [c for c in found if c is not None]

    def _leans(self, spaces: Sequence[str] = ()) -> list[Any]:
        if spaces:
            return self._existing([self._lean(s) for s in dict.fromkeys(spaces)])
        return self._existing([n for n in self._names() if n.startswith(f"{self._prefix}.space.")])

    def _write(self, rows: list[tuple[str, Any, str, Any]], *, upsert: bool = False) -> None:
        """Rows (id, vector, document, metadata): unflagged into the main collection and
        their space's lean one, flagged into the flagged collection."""
        plain = [r for r in rows if not (r[3] or {}).get("flagged")]
        flagged = [r for r in rows if (r[3] or {}).get("flagged")]
        by_space: dict[str, list[tuple[str, Any, str, Any]]] = {}
        for row in plain:
            by_space.setdefault(str((row[3] or {}).get("space", "")), []).append(row)
        # Main first: after a crash between the two, the next replace finds the rows in main
        # and drops them from main and the lean graphs alike, so the copies cannot drift.
        self._add(self._main, plain, upsert=upsert)
        for space, part in by_space.items():
            self._add(self._lean(space), part, upsert=upsert, lean=True)
        self._add(self._flagged, flagged, upsert=upsert)

    def _add(
        self, name: str, rows: list[tuple[str, Any, str, Any]], *, upsert: bool, lean: bool = False
    ) -> None:
        if not rows:
            return
        col: Any = self._get(name, create=True)
        write = col.upsert if upsert else col.add
        for start in range(0, len(rows), _MAX_BATCH):
            ids, vecs, docs, metas = zip(*rows[start : start + _MAX_BATCH], strict=True)
            vectors = np.asarray(vecs, dtype=np.float32)
            if lean:
                uids = [{"proposal_uid": str((m or {}).get("proposal_uid", ""))} for m in metas]
                write(ids=list(ids), embeddings=vectors, metadatas=uids)
            else:
                write(
                    ids=list(ids),
                    embeddings=vectors,
                    documents=list(docs),
                    metadatas=[dict(m) for m in metas],
                )

    def _home(self, meta: Any) -> list[str]:
        """The collections a chunk with this metadata lives in."""
        meta = meta or {}
        if meta.get("flagged"):
            return [self._flagged]
        return [self._main, self._lean(str(meta.get("space", "")))]

    def _where_uids(self, key: str, values: Sequence[str]) -> dict[str, Any]:
        return {key: values[0] if len(values) == 1 else {"$in": list(values)}}

    # ---- VectorIndex ----------------------------------------------------------
    def replace(
        self, uid: str, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]
    ) -> None:
        self.replace_many([(uid, chunks, vectors)])

    def replace_many(
        self, items: Sequence[tuple[str, Sequence[Chunk], Sequence[Sequence[float]]]]
    ) -> None:
        """Drop what the proposals had, then bulk adds (Chroma's cost is per call more than row)."""
        self._drop([uid for uid, _, _ in items])
        rows = [
            (c.id, v, c.text, c.metadata)
            for _, chunks, vectors in items
            for c, v in zip(chunks, vectors, strict=True)
        ]
        self._write(rows)

    def _drop(self, uids: Sequence[str]) -> None:
        """Every chunk of `uids`, wherever it lives: main and flagged by `proposal_uid`, the
        lean copies by the ids and spaces main knows them under."""
        main, flagged = self._get(self._main), self._get(self._flagged)
        for start in range(0, len(uids), _MAX_IN):
            where = self._where_uids("proposal_uid", uids[start : start + _MAX_IN])
            if flagged is not None:
                flagged.delete(where=where)
            if main is None:
                continue
            got = main.get(where=where, include=["metadatas"])
            if not got["ids"]:
                continue
            by_space: dict[str, list[str]] = {}
            for cid, meta in zip(got["ids"], got["metadatas"], strict=True):
                by_space.setdefault(str((meta or {}).get("space", "")), []).append(cid)
            for space, ids in by_space.items():
                lean = self._get(self._lean(space))
                if lean is not None:
                    lean.delete(ids=ids)
            main.delete(ids=got["ids"])

    def vectors_for(
        self, text_keys: Sequence[str], *, spaces: Sequence[str] = ()
    ) -> dict[str, list[float]]:
        """Stored vectors by content address, from any space (`spaces` is only a hint)."""
        found: dict[str, list[float]] = {}
        for col in self._existing([self._main, self._flagged]):
            for start in range(0, len(text_keys), _MAX_IN):
                where = self._where_uids("text_key", text_keys[start : start + _MAX_IN])
                got = col.get(where=where, include=["embeddings", "metadatas"])
                for meta, vector in zip(got["metadatas"], got["embeddings"], strict=True):
                    found[str((meta or {}).get("text_key"))] = [float(x) for x in vector]
        return found

    def relabel(self, uid: str, metadata: dict[str, str | int | float | bool]) -> int:
        """New metadata for `uid`'s chunks; a change of `flagged` (or space) moves them.

        The new copies are written before the old ones are deleted, so a crash in between
        leaves the chunks findable (the indexer relabels again on its next run).
        """
        moved = 0
        for col in self._existing([self._main, self._flagged]):
            found = col.get(
                where={"proposal_uid": uid}, include=["embeddings", "documents", "metadatas"]
            )
            if not found["ids"]:
                continue
            metas = [{**(m or {}), **metadata} for m in found["metadatas"]]
            before = set(self._home(found["metadatas"][0]))
            after = set(self._home(metas[0]))
            if before == after:
                col.update(ids=found["ids"], metadatas=metas)
            else:
                rows = zip(
                    found["ids"], found["embeddings"], found["documents"], metas, strict=True
                )
                self._write(list(rows), upsert=True)
                for old in self._existing(sorted(before - after)):
                    old.delete(ids=found["ids"])
            moved += len(found["ids"])
        return moved

    def vectors(self, uid: str, *, space: str | None = None) -> list[list[float]]:
        pairs: list[tuple[Any, Any]] = []
        for col in self._existing([self._main, self._flagged]):
            found = col.get(where={"proposal_uid": uid}, include=["embeddings", "metadatas"])
            pairs += zip(found["metadatas"], found["embeddings"], strict=True)
        ordered = sorted(pairs, key=lambda mv: int((mv[0] or {}).get("chunk", 0)))
        return [[float(x) for x in v] for _, v in ordered]

    def remove(self, uid: str) -> None:
        self._drop([uid])

    def query(
        self,
        vector: Sequence[float],
        *,
        limit: int,
        spaces: Sequence[str] = (),
        uids: Sequence[str] = (),
        include_flagged: bool = False,
    ) -> list[ChunkHit]:
        """The `limit` nearest chunks in `spaces` (all when empty), optionally only of `uids`."""
        where = self._where_uids("proposal_uid", uids) if uids else None
        query = [np.asarray(vector, dtype=np.float32)]
        hits: list[ChunkHit] = []
        if not spaces:
            main = self._get(self._main)
            if main is not None:
                hits += _hits(
                    main.query(query_embeddings=query, n_results=limit, where=where, include=_FULL)
                )
        else:
            near: list[tuple[float, str]] = []
            for lean in self._leans(spaces):
                got = lean.query(
                    query_embeddings=query, n_results=limit, where=where, include=["distances"]
                )
                near += zip(got["distances"][0], got["ids"][0], strict=True)
            near = sorted(near)[:limit]
            wanted = set(spaces)  # main's metadata is the truth if a relabel was cut short
            hits += [h for h in self._fetch(near) if h.metadata.get("space") in wanted]
        flagged = self._get(self._flagged) if include_flagged else None
        if flagged is not None:
            clauses = [
                c for c in (where, self._where_uids("space", spaces) if spaces else None) if c
            ]
            fwhere = clauses[0] if len(clauses) == 1 else ({"$and": clauses} if clauses else None)
            hits += _hits(
                flagged.query(query_embeddings=query, n_results=limit, where=fwhere, include=_FULL)
            )
        hits.sort(key=lambda h: h.distance)
        return hits[:limit]

    def _fetch(self, near: list[tuple[float, str]]) -> list[ChunkHit]:
        """Texts and metadata from the main collection for (distance, id) pairs of a lean one."""
        main = self._get(self._main)
        if not near or main is None:
            return []
        got = main.get(ids=[cid for _, cid in near], include=["documents", "metadatas"])
        rows = {
            cid: (doc, meta)
            for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        }
        hits = []
        for distance, cid in near:
            if cid not in rows:  # dropped from main a moment ago, by another writer
                continue
            doc, meta = rows[cid]
            hits.append(_hit(cid, doc, meta, distance))
        return hits

    def count(self) -> int:
        return sum(int(col.count()) for col in self._existing([self._main, self._flagged]))


def _missing() -> tuple[type[Exception], ...]:
    """What Chroma raises for a collection that does not exist (it changed across versions)."""
    from chromadb.errors import NotFoundError

    return (NotFoundError, ValueError)


def _hits(result: dict[str, Any]) -> list[ChunkHit]:
    return [
        _hit(cid, doc, meta, dist)
        for cid, doc, meta, dist in zip(
            result["ids"][0],
            result["documents"][0],
            result["metadatas"][0],
            result["distances"][0],
            strict=True,
        )
    ]


def _hit(cid: str, doc: str | None, meta: Any, distance: float) -> ChunkHit:
    meta = dict(meta or {})
    return ChunkHit(
        chunk_id=cid,
        proposal_uid=str(meta.get("proposal_uid", "")),
        text=doc or "",
        distance=float(distance),
        metadata=meta,
    )
