"""Search proposals by meaning: embed the query, rank chunks, one hit per proposal."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from agent.models import utc
from agent.ports import Embedder, VectorIndex

_OVERFETCH = 4


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


def build_filter(spaces: Sequence[str], include_flagged: bool) -> dict[str, Any] | None:
    clauses: list[dict[str, Any]] = []
    if len(spaces) == 1:
        clauses.append({"space": spaces[0]})
    elif spaces:
        clauses.append({"space": {"$in": list(spaces)}})
    if not include_flagged:
        clauses.append({"flagged": False})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def search(
    query: str,
    index: VectorIndex,
    embedder: Embedder,
    *,
    spaces: Sequence[str] = (),
    limit: int = 5,
    include_flagged: bool = False,
) -> list[SearchHit]:
    """Best proposals for `query`, each with its best-matching passage."""
    if not query.strip():
        return []
    vector = embedder.embed([query])[0]
    chunks = index.query(
        vector, limit=limit * _OVERFETCH, where=build_filter(spaces, include_flagged)
    )
    best: dict[str, SearchHit] = {}
    for hit in chunks:
        if hit.proposal_uid in best:
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
    return list(best.values())
