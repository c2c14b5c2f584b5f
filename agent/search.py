"""Search proposals: dense ranking by meaning, fused with a full-text ranking by words.

Dense search alone misses questions whose telling words are rare (a token
symbol, a core-unit code): the embedding blurs them. With a text index the two
candidate lists are fused by score: each list's scores are min-max normalised
to 0..1 (BM25 and cosine have unrelated scales) and a proposal's fused score is
their equal-weight mean, 0 from a list it is missing from. Unlike reciprocal
rank fusion this keeps *how far* a leader is ahead, which is what tells a
confident ranking from a coin toss (bench/retrieval_bench.py compares both).
A hit's `score` and `passage` stay those of its best-matching chunk.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel

from agent.models import utc
from agent.ports import ChunkHit, Embedder, TextIndex, VectorIndex

_OVERFETCH = 4
_MAX_FETCH = 2000
RRF_K = 60
"""The usual RRF constant: ranks 1 and 2 differ little, ranks 1 and 30 a lot."""
CANDIDATES = 20
"""Proposals each ranking contributes to the fusion."""


class SearchHit(BaseModel):
    uid: str
    title: str
    space: str
    source: str
    state: str
    created: datetime | None
    flagged: bool
    score: float
    """Cosine similarity of the best matching passage, 1 is identical."""
    passage: str


def search(
    query: str,
    index: VectorIndex,
    embedder: Embedder,
    *,
    spaces: Sequence[str] = (),
    limit: int = 5,
    include_flagged: bool = False,
    text_index: TextIndex | None = None,
) -> list[SearchHit]:
    """Best proposals for `query`, each with its best-matching passage.

    Without `text_index`, by meaning alone (dense).
    """
    if not query.strip():
        return []
    vector = embedder.embed([query])[0]
    if text_index is None:
        return list(_dense(vector, index, limit, spaces=spaces, flagged=include_flagged).values())
    dense = _dense(vector, index, max(limit, CANDIDATES), spaces=spaces, flagged=include_flagged)
    words = text_index.text_search(
        query, limit=max(limit, CANDIDATES), spaces=spaces, include_flagged=include_flagged
    )
    scored = [[(uid, hit.score) for uid, hit in dense.items()], [(w.uid, w.score) for w in words]]
    fused = score_fusion(scored)[:limit]
    missing = [uid for uid in fused if uid not in dense]
    if missing:  # found by words only: fetch their best passage (and cosine) from the index
        where = sorted({w.space for w in words if w.uid in missing})
        found = _dense(vector, index, len(missing), spaces=where, uids=missing, flagged=True)
        dense.update(found)
    return [dense[uid] for uid in fused if uid in dense]


def score_fusion(lists: Sequence[Sequence[tuple[str, float]]]) -> list[str]:
    """Items by the mean of their min-max normalised scores over `lists` (0 where absent)."""
    total: dict[str, float] = {}
    for scored in lists:
        if not scored:
            continue
        low, high = min(s for _, s in scored), max(s for _, s in scored)
        for item, score in scored:
            norm = (score - low) / (high - low) if high > low else 1.0
            total[item] = total.get(item, 0.0) + norm
    return sorted(total, key=lambda item: -total[item])


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]], k: int = RRF_K) -> list[str]:
    """Items ordered by the sum of 1 / (k + rank) over the rankings they appear in."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, 1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda item: -scores[item])


def _dense(
    vector: Sequence[float],
    index: VectorIndex,
    limit: int,
    *,
    spaces: Sequence[str] = (),
    uids: Sequence[str] = (),
    flagged: bool = False,
) -> dict[str, SearchHit]:
    """The `limit` best proposals by their best chunk, best first."""
    fetch = limit * _OVERFETCH
    while True:
        chunks = index.query(vector, limit=fetch, spaces=spaces, uids=uids, include_flagged=flagged)
        best = _best_per_proposal(chunks, limit, flagged)
        if len(best) >= limit or len(chunks) < fetch or fetch >= _MAX_FETCH:
            return best
        fetch *= 4


def _best_per_proposal(
    chunks: Sequence[ChunkHit], limit: int, include_flagged: bool
) -> dict[str, SearchHit]:
    best: dict[str, SearchHit] = {}
    for hit in chunks:
        if hit.proposal_uid in best:
            continue
        if not include_flagged and hit.metadata.get("flagged"):
            continue
        meta = hit.metadata
        created = meta.get("created")
        text = hit.text.split("\n\n", 1)[-1]
        best[hit.proposal_uid] = SearchHit(
            uid=hit.proposal_uid,
            title=str(meta.get("title", "")),
            space=str(meta.get("space", "")),
            source=str(meta.get("source", "")),
            state=str(meta.get("state", "")),
            created=utc(int(created)) if isinstance(created, int | float) and created else None,
            flagged=bool(meta.get("flagged", False)),
            score=round(1.0 - hit.distance, 4),
            passage=text,
        )
        if len(best) == limit:
            break
    return best
