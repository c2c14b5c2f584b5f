"""What was knowable at a moment: the only way precedent evidence is read.

A backtest replays proposals in time order; when it assesses one created at T, the
analyst must see only proposals created before T, votes cast before T and outcomes of
votes that ended before T. Every lookup here takes that moment and filters by it, in
the vector store's query and again on the records, so no caller can peek.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from agent.analysis.outcomes import outcome_position
from agent.chunking import clean_text
from agent.models import Proposal, Vote
from agent.ports import Embedder, VectorIndex
from agent.records.assessment import Position
from agent.store import RecordStore

_OVERFETCH = 6


class History:
    """An as-of view over the record store and the vector index."""

    def __init__(
        self, store: RecordStore, index: VectorIndex, embedder: Callable[[], Embedder]
    ) -> None:
        self.store = store
        self.index = index
        self.embedder = embedder
        self._vectors: dict[tuple[str, str], list[float]] = {}
        self._known: list[tuple[datetime, str, str]] | None = None
        self._uids: set[str] = set()

    def similar(
        self, proposal: Proposal, as_of: datetime, *, limit: int, space: str | None = None
    ) -> list[tuple[Proposal, float]]:
        """Proposals created before `as_of`, most similar first, with cosine similarity.

        The vector query itself is restricted to those proposals' uids, so later ones can
        neither appear nor crowd the earlier ones out of the top results."""
        timeline = self._timeline(proposal.uid)
        past = [
            uid
            for created, uid, sp in timeline
            if created < as_of and uid != proposal.uid and (space is None or sp == space)
        ]
        if not past:
            return []
        hits = self.index.query(
            self._vector(proposal),
            limit=limit * _OVERFETCH,
            spaces=[space] if space else (),
            uids=past,
        )
        best: dict[str, float] = {}
        for hit in hits:
            if hit.proposal_uid not in best:
                best[hit.proposal_uid] = 1.0 - hit.distance
        found = {p.uid: p for p in self.store.proposals(uids=list(best))}
        out = [
            (p, sim)
            for uid, sim in best.items()
            if (p := found.get(uid)) is not None and p.created is not None and p.created < as_of
        ]
        out.sort(key=lambda x: -x[1])
        return out[:limit]

    def _timeline(self, uid: str) -> list[tuple[datetime, str, str]]:
        """(created, uid, space) of every stored proposal with a creation time; read again
        when asked about a proposal it does not hold (something was ingested since)."""
        if self._known is None or uid not in self._uids:
            stored = self.store.proposals()
            self._known = [(p.created, p.uid, p.space) for p in stored if p.created is not None]
            self._uids = {p.uid for p in stored}
        return self._known

    def votes(self, voter: str, as_of: datetime, uids: list[str]) -> dict[str, Vote]:
        """The voter's votes on `uids` cast before `as_of`."""
        if not uids:
            return {}
        return {v.proposal_uid: v for v in self.store.votes_by(voter, before=as_of, uids=uids)}

    @staticmethod
    def outcome(proposal: Proposal, as_of: datetime) -> Position | None:
        """The result, if voting had ended before `as_of` (else it was not yet known)."""
        if proposal.end is None or proposal.end >= as_of:
            return None
        return outcome_position(proposal)

    def _vector(self, proposal: Proposal) -> list[float]:
        """The proposal as one vector: the mean of its indexed chunks when the index holds
        this very version (no model call), else its opening embedded now."""
        key = (proposal.uid, proposal.content_hash)
        if key not in self._vectors:
            stored = self.store.get(proposal.uid)
            chunks = (
                self.index.vectors(proposal.uid, space=proposal.space)
                if stored is not None and stored.indexed_hash == proposal.content_hash
                else []
            )
            if chunks:
                self._vectors[key] = _normalised([sum(xs) for xs in zip(*chunks, strict=True)])
            else:
                text = f"{clean_text(proposal.title)}\n\n{clean_text(proposal.body)[:3000]}"
                self._vectors[key] = self.embedder().embed([text])[0]
        return self._vectors[key]


def _normalised(vector: list[float]) -> list[float]:
    norm = sum(x * x for x in vector) ** 0.5
    return [x / norm for x in vector] if norm else vector
