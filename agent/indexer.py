"""Bring the vector index in line with the record store.

Driven by what the store says the index holds (`indexed_hash`): a proposal is
embedded only when its content hash changed, so a re-run with nothing new
computes no embeddings and never loads the model. A crash half-way leaves the
remaining proposals marked stale for the next run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from pydantic import BaseModel

from agent.chunking import chunk_proposals
from agent.models import Proposal
from agent.ports import Chunk, Embedder, VectorIndex
from agent.progress import NoProgress, Progress
from agent.settings import ChunkingSettings
from agent.store import RecordStore

BATCH_CHUNKS = 2048
"""Chunks gathered before one embed call and one index write: the embedder sorts a
call's texts by tokens, so bigger calls pad less; Chroma and the store write in bulk,
and each space's graph gets one add per batch (with a zero-cost embedder, 1024 ran
at ~2,900 chunks/s and 2048 at ~3,150, bench/pipeline_standin.py; 1024 against 256
had saved 7 % of CPU before)."""
_KNOWN_LIMIT = 50_000  # vectors kept in memory during one run (~80 MB at 384 dimensions)
CHUNK_GROUP = 256
"""Proposals chunked together: their token counts are one call of the counter (256 ran
~3 % faster than 64 with a zero-cost embedder)."""


class IndexCounts(BaseModel):
    embedded_proposals: int = 0
    embedded_chunks: int = 0
    relabelled: int = 0
    removed: int = 0
    chunks_left_out: int = 0
    """Chunks beyond `chunking.max_chunks` (huge bodies); the text stays in the record store."""
    computed_embeddings: int = 0
    """Vectors the model computed; the rest were reused by content (`text_key`)."""
    text_indexed: int = 0
    """Proposals (re)written to the full-text index (unchanged content is never rewritten)."""
    text_removed: int = 0


def sync_index(
    store: RecordStore,
    index: VectorIndex,
    embedder: Callable[[], Embedder],
    chunking: ChunkingSettings,
    *,
    batch_chunks: int = BATCH_CHUNKS,
    progress: Progress | None = None,
) -> IndexCounts:
    """Embed new or edited proposals, relabel changed state, drop deleted ones."""
    progress = progress or NoProgress()
    text_counts = store.sync_text_index()
    counts = IndexCounts(text_indexed=text_counts.indexed, text_removed=text_counts.removed)
    tasks = store.index_tasks()
    for task in tasks:
        if task.action == "remove":
            index.remove(task.uid)
            store.set_indexed(None, task.uid, 0)
            counts.removed += 1
        elif task.action == "metadata" and task.proposal is not None:
            p = task.proposal
            index.relabel(p.uid, {"space": p.space, "state": p.state, "flagged": p.flagged})
            store.set_indexed(p, p.uid, store.get(p.uid).indexed_chunks)  # type: ignore[union-attr]
            counts.relabelled += 1
    to_embed = [t.proposal for t in tasks if t.action == "embed" and t.proposal is not None]
    if not to_embed:
        return counts
    model = embedder()
    progress.start("embed", total=len(to_embed))
    known: dict[str, list[float]] = {}
    batch: list[tuple[Proposal, list[Chunk]]] = []
    pending_chunks = 0
    for start in range(0, len(to_embed), CHUNK_GROUP):
        group = to_embed[start : start + CHUNK_GROUP]
        chunked = chunk_proposals(
            group,
            max_words=chunking.max_words,
            overlap=chunking.overlap_words,
            max_chunks=chunking.max_chunks,
            count_tokens=model.count_tokens,
            max_tokens=model.max_tokens,
        )
        for proposal, (chunks, dropped) in zip(group, chunked, strict=True):
            counts.chunks_left_out += dropped
            batch.append((proposal, chunks))
            pending_chunks += len(chunks)
            if pending_chunks >= batch_chunks:
                _flush(batch, model, index, store, counts, known)
                progress.advance("embed", len(batch))
                batch, pending_chunks = [], 0
    _flush(batch, model, index, store, counts, known)
    progress.advance("embed", len(batch))
    return counts


def text_key(model: str, text: str) -> str:
    """Content address of a chunk's vector: the same text under the same model."""
    return hashlib.sha256(f"{model}\0{text}".encode()).hexdigest()[:40]


def _flush(
    batch: list[tuple[Proposal, list[Chunk]]],
    model: Embedder,
    index: VectorIndex,
    store: RecordStore,
    counts: IndexCounts,
    known: dict[str, list[float]],
) -> None:
    """Embed what no chunk in the index or this run already has, then write the batch.

    Unchanged passages of an edited proposal, and boilerplate shared between
    proposals, keep their vectors (looked up by `text_key`).
    """
    if not batch:
        return
    if len(known) > _KNOWN_LIMIT:
        known.clear()
    keyed = [
        [
            c.model_copy(
                update={"metadata": {**c.metadata, "text_key": text_key(model.model_name, c.text)}}
            )
            for c in chunks
        ]
        for _, chunks in batch
    ]
    texts = {str(c.metadata["text_key"]): c.text for chunks in keyed for c in chunks}
    unknown = [k for k in texts if k not in known]
    if unknown:
        spaces = sorted({proposal.space for proposal, _ in batch})
        known.update(index.vectors_for(unknown, spaces=spaces))
    todo = [k for k in texts if k not in known]
    known.update(zip(todo, model.embed([texts[k] for k in todo]), strict=True))
    counts.computed_embeddings += len(todo)
    items = [
        (proposal.uid, chunks, [known[str(c.metadata["text_key"])] for c in chunks])
        for (proposal, _), chunks in zip(batch, keyed, strict=True)
    ]
    index.replace_many(items)
    store.set_indexed_many([(proposal, len(chunks)) for proposal, chunks in batch])
    counts.embedded_proposals += len(batch)
    counts.embedded_chunks += sum(len(chunks) for _, chunks in batch)
