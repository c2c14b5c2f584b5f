"""The vector index Steward searches: passage texts in the record store, vectors apart.

A vector store that indexes text and metadata writes a passage several times slower
than a bare vector (Chroma: 1,900 against 9,200 a second here), and Steward never
searches the vector store's copy of the text: it reads a hit's text back, and its
full-text search runs in the record store. So the vector store (`Vectors`) keeps bare
vectors under passage ids, and this class joins them with the passages table. What a
hit shows of its proposal (title, state, flag) is read from the proposal as it is now,
so a change of state rewrites nothing.

Writes keep the two sides consistent across a crash: old vectors are dropped, the
passages replaced in one transaction, then the new vectors written; the proposal is
marked indexed only after that (`agent.indexer`), so an interrupted write is redone.
A vector without a passage is never shown; a passage without a vector is not found
until it is rewritten.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from agent.chunking import chunk_title
from agent.ports import Chunk, ChunkHit, VectorKey, Vectors
from agent.records.passage import Passage, PassageKey, PassageView
from agent.store.passages import PassageTable

EXACT_MAX = 2048
"""A query restricted to proposals whose passages number at most this is answered
exactly, from their stored vectors; a larger restriction searches the graph and keeps
the allowed hits, asking for more until it has enough."""
_OVERFETCH = 4


def _key(p: Passage | PassageKey) -> VectorKey:
    return VectorKey(p.chunk_id, p.space, p.flagged)


class PassageIndex:
    """`VectorIndex` over a `Vectors` store and the record store's passages."""

    def __init__(self, store: PassageTable, graphs: Vectors) -> None:
        self.store = store
        self.graphs = graphs
        self.moved_from_before = self._move_old_layouts()

    def _move_old_layouts(self) -> int:
        """Passages of an index from before into the store, their vectors into the new
        layout (never re-embedded); each page is dropped there only once moved."""
        moved = 0
        while page := self.graphs.old_passages():
            passages = [_old_passage(p.id, p.text, p.metadata) for p in page]
            self.store.upsert_passages(passages)
            self.graphs.put([_key(p) for p in passages], [p.vector for p in page])
            self.graphs.forget_old([p.id for p in page])
            moved += len(page)
        return moved

    # ---- writes --------------------------------------------------------------------
    def replace(
        self, uid: str, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]
    ) -> None:
        self.replace_many([(uid, chunks, vectors)])

    def replace_many(
        self, items: Sequence[tuple[str, Sequence[Chunk], Sequence[Sequence[float]]]]
    ) -> None:
        uids = [uid for uid, _, _ in items]
        old = self.store.passage_keys(uids)
        if old:
            self.graphs.drop([_key(p) for p in old])
        passages = [_passage(uid, c) for uid, chunks, _ in items for c in chunks]
        self.store.replace_passages(uids, passages)
        vectors = [v for _, _, vs in items for v in vs]
        if passages:
            self.graphs.put([_key(p) for p in passages], vectors)

    def relabel(self, uid: str, metadata: dict[str, str | int | float | bool]) -> int:
        """Only a new space or flag moves vectors; state and title are read at query time."""
        old = self.store.passage_keys([uid])
        space = str(metadata.get("space", old[0].space if old else ""))
        flagged = bool(metadata.get("flagged", old[0].flagged if old else False))
        moves = [
            (_key(p), VectorKey(p.chunk_id, space, flagged))
            for p in old
            if (p.space, p.flagged) != (space, flagged)
        ]
        if moves:
            self.graphs.move(moves)
            self.store.move_passages(uid, space=space, flagged=flagged)
        return len(old)

    def remove(self, uid: str) -> None:
        old = self.store.passage_keys([uid])
        if old:
            self.graphs.drop([_key(p) for p in old])
        self.store.delete_passages([uid])

    # ---- reads ---------------------------------------------------------------------
    def vectors_for(
        self, text_keys: Sequence[str], *, spaces: Sequence[str] = ()
    ) -> dict[str, list[float]]:
        """Stored vectors by content address, from any space (`spaces` is only a hint)."""
        found = self.store.passages_by_text_key([k for k in text_keys if k])
        got = self.graphs.get([_key(p) for p in found.values()])
        return {k: got[p.chunk_id] for k, p in found.items() if p.chunk_id in got}

    def vectors(self, uid: str, *, space: str | None = None) -> list[list[float]]:
        passages = self.store.passage_keys([uid])
        got = self.graphs.get([_key(p) for p in passages])
        return [got[p.chunk_id] for p in passages if p.chunk_id in got]

    def query(
        self,
        vector: Sequence[float],
        *,
        limit: int,
        spaces: Sequence[str] = (),
        uids: Sequence[str] = (),
        include_flagged: bool = False,
    ) -> list[ChunkHit]:
        if uids:
            near = self._within(vector, limit, spaces, uids, include_flagged)
        else:
            near = self.graphs.nearest(
                vector, limit=limit, spaces=spaces, include_flagged=include_flagged
            )
        views = self.store.passage_views([cid for cid, _ in near])
        wanted = set(spaces)
        hits = []
        for cid, distance in near:
            view = views.get(cid)
            if view is None:  # removed a moment ago, by another writer
                continue
            if wanted and view.space not in wanted:  # the passages table is the truth
                continue
            hits.append(_hit(view, distance))
        return hits

    def _within(
        self,
        vector: Sequence[float],
        limit: int,
        spaces: Sequence[str],
        uids: Sequence[str],
        include_flagged: bool,
    ) -> list[tuple[str, float]]:
        """Nearest passages of `uids` only: exact for a few, else filtered graph hits."""
        allowed = [
            p
            for p in self.store.passage_keys(uids)
            if (not spaces or p.space in spaces) and (include_flagged or not p.flagged)
        ]
        if not allowed:
            return []
        if len(allowed) <= EXACT_MAX:
            got = self.graphs.get([_key(p) for p in allowed])
            ids = [p.chunk_id for p in allowed if p.chunk_id in got]
            if not ids:
                return []
            matrix = np.asarray([got[i] for i in ids], dtype=np.float32)
            q = np.asarray(vector, dtype=np.float32)
            norms = np.linalg.norm(matrix, axis=1) * (np.linalg.norm(q) or 1.0)
            distances = 1.0 - (matrix @ q) / np.where(norms == 0, 1.0, norms)
            order = np.argsort(distances, kind="stable")[:limit]
            return [(ids[i], float(distances[i])) for i in order]
        kept_ids = {p.chunk_id for p in allowed}
        fetch = limit * _OVERFETCH
        while True:
            near = self.graphs.nearest(
                vector, limit=fetch, spaces=spaces, include_flagged=include_flagged
            )
            kept = [(cid, d) for cid, d in near if cid in kept_ids]
            if len(kept) >= limit or len(near) < fetch:
                return kept[:limit]
            fetch *= _OVERFETCH

    def count(self) -> int:
        return self.graphs.count()

    def heartbeat(self) -> None:
        self.graphs.heartbeat()


def _passage(uid: str, chunk: Chunk) -> Passage:
    meta = chunk.metadata
    return Passage(
        chunk_id=chunk.id,
        proposal_uid=uid,
        space=str(meta.get("space", "")),
        flagged=bool(meta.get("flagged", False)),
        chunk=chunk.index,
        text_key=str(meta.get("text_key", "")),
        text=chunk.text,
    )


def _old_passage(cid: str, text: str, meta: dict[str, object]) -> Passage:
    chunk = meta.get("chunk")
    if not isinstance(chunk, int):
        tail = cid.rsplit("#", 1)[-1]
        chunk = int(tail) if tail.isdigit() else 0
    return Passage(
        chunk_id=cid,
        proposal_uid=str(meta.get("proposal_uid") or cid.rsplit("#", 1)[0]),
        space=str(meta.get("space", "")),
        flagged=bool(meta.get("flagged", False)),
        chunk=chunk,
        text_key=str(meta.get("text_key", "")),
        text=text,
    )


def _hit(view: PassageView, distance: float) -> ChunkHit:
    flagged = view.flagged if view.proposal_flagged is None else view.proposal_flagged
    return ChunkHit(
        chunk_id=view.chunk_id,
        proposal_uid=view.proposal_uid,
        text=view.text,
        distance=distance,
        metadata={
            "proposal_uid": view.proposal_uid,
            "space": view.space,
            "chunk": view.chunk,
            "text_key": view.text_key,
            "title": chunk_title(view.title)[:300],
            "state": view.state,
            "source": view.source,
            "created": view.created_ts,
            "flagged": flagged,
        },
    )
