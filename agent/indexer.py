"""Bring the vector index in line with the record store.

Driven by what the store says the index holds (`indexed_hash`): a proposal is
embedded only when its content hash changed, so a re-run with nothing new
computes no embeddings and never loads the model. A crash half-way leaves the
remaining proposals marked stale for the next run.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from agent.chunking import chunk_proposal
from agent.models import Proposal
from agent.ports import Chunk, Embedder, VectorIndex
from agent.progress import NoProgress, Progress
from agent.settings import ChunkingSettings
from agent.store import RecordStore


class IndexCounts(BaseModel):
    embedded_proposals: int = 0
    embedded_chunks: int = 0
    relabelled: int = 0
    removed: int = 0
    chunks_left_out: int = 0
    """Chunks beyond `chunking.max_chunks` (huge bodies); the text stays in the record store."""


def sync_index(
    store: RecordStore,
    index: VectorIndex,
    embedder: Callable[[], Embedder],
    chunking: ChunkingSettings,
    *,
    batch_chunks: int = 256,
    progress: Progress | None = None,
) -> IndexCounts:
    """Embed new or edited proposals, relabel changed state, drop deleted ones."""
    progress = progress or NoProgress()
    counts = IndexCounts()
    tasks = store.index_tasks()
    for task in tasks:
        if task.action == "remove":
            index.remove(task.uid)
            store.set_indexed(None, task.uid, 0)
            counts.removed += 1
        elif task.action == "metadata" and task.proposal is not None:
            p = task.proposal
            index.relabel(p.uid, {"state": p.state, "flagged": p.flagged})
            store.set_indexed(p, p.uid, store.get(p.uid).indexed_chunks)  # type: ignore[union-attr]
            counts.relabelled += 1
    to_embed = [t.proposal for t in tasks if t.action == "embed" and t.proposal is not None]
    if not to_embed:
        return counts
    model = embedder()
    progress.start("embed", total=len(to_embed))
    batch: list[tuple[Proposal, list[Chunk]]] = []
    pending_chunks = 0
    for proposal in to_embed:
        chunks, dropped = chunk_proposal(
            proposal,
            max_words=chunking.max_words,
            overlap=chunking.overlap_words,
            max_chunks=chunking.max_chunks,
            count_tokens=model.count_tokens,
            max_tokens=model.max_tokens,
        )
        counts.chunks_left_out += dropped
        batch.append((proposal, chunks))
        pending_chunks += len(chunks)
        if pending_chunks >= batch_chunks:
            _flush(batch, model, index, store, counts, progress)
            batch, pending_chunks = [], 0
    _flush(batch, model, index, store, counts, progress)
    return counts


def _flush(
    batch: list[tuple[Proposal, list[Chunk]]],
    model: Embedder,
    index: VectorIndex,
    store: RecordStore,
    counts: IndexCounts,
    progress: Progress,
) -> None:
    if not batch:
        return
    vectors = model.embed([c.text for _, chunks in batch for c in chunks])
    offset = 0
    for proposal, chunks in batch:
        mine = vectors[offset : offset + len(chunks)]
        offset += len(chunks)
        index.replace(proposal.uid, chunks, mine)
        store.set_indexed(proposal, proposal.uid, len(chunks))
        counts.embedded_proposals += 1
        counts.embedded_chunks += len(chunks)
        progress.advance("embed", 1)
