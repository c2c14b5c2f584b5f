"""The index pipeline with an embedder that costs nothing: is anything but the model slow?

On a GPU the model embeds thousands of chunks a second, so chunking, Chroma
writes and the store's bookkeeping must keep up. Here the embedder is a stand-in
that returns stored vectors (real MiniLM vectors where the bench has them, a
fixed pseudo-random unit vector per text otherwise) and counts tokens with the
real tokenizer, as chunking needs. Both the indexer as it was (a delete, an add
and a bookkeeping transaction per proposal) and as it is now run on the same
records, each into a fresh embedded Chroma with its own SQLite store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from bench_common import Json, timed

from agent.chunking import chunk_proposal
from agent.indexer import sync_index
from agent.ingest import ingest
from agent.ports import Embedder
from agent.settings import ChunkingSettings
from agent.store import RecordStore


class StoredVectors:
    """An Embedder whose `embed` costs (almost) nothing; tokens counted for real."""

    def __init__(self, real: Embedder, vectors: dict[str, list[float]]) -> None:
        self.model_name = real.model_name
        self._real = real
        self._vectors = vectors
        self.texts_embedded = 0

    @property
    def max_tokens(self) -> int:
        return self._real.max_tokens

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self._real.count_tokens(texts)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.texts_embedded += len(texts)
        return [self._vectors.get(t) or _pseudo_vector(t) for t in texts]


def _pseudo_vector(text: str) -> list[float]:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    v = np.random.default_rng(seed).normal(size=384)
    return list((v / np.linalg.norm(v)).tolist())


def legacy_sync(store: RecordStore, index: object, model: Embedder, cfg: ChunkingSettings) -> int:
    """The indexer before bulk writes: per proposal a delete, an add and a transaction."""
    written = 0
    batch: list = []
    for task in store.index_tasks():
        if task.action != "embed" or task.proposal is None:
            continue
        chunks, _ = chunk_proposal(
            task.proposal,
            max_words=cfg.max_words,
            overlap=cfg.overlap_words,
            max_chunks=cfg.max_chunks,
            count_tokens=model.count_tokens,
            max_tokens=model.max_tokens,
        )
        batch.append((task.proposal, chunks))
        if sum(len(c) for _, c in batch) >= 256:
            written += _legacy_flush(batch, store, index, model)
            batch = []
    return written + _legacy_flush(batch, store, index, model)


def _legacy_flush(batch: list, store: RecordStore, index: object, model: Embedder) -> int:
    vectors = model.embed([c.text for _, chunks in batch for c in chunks])
    offset = 0
    for proposal, chunks in batch:
        index._collection.delete(where={"proposal_uid": proposal.uid})  # type: ignore[attr-defined]
        if chunks:
            index._collection.add(  # type: ignore[attr-defined]
                ids=[c.id for c in chunks],
                embeddings=np.asarray(vectors[offset : offset + len(chunks)], dtype=np.float32),
                documents=[c.text for c in chunks],
                metadatas=[dict(c.metadata) for c in chunks],
            )
        offset += len(chunks)
        store.set_indexed(proposal, proposal.uid, len(chunks))
    return offset


def _fresh(root: Path, name: str, archives: list[Path]) -> tuple[RecordStore, object]:
    from connectors.archive import ArchiveSource
    from connectors.chroma_index import ChromaIndex, open_chroma_client

    store = RecordStore(f"sqlite:///{root / name / 'steward.db'}")
    for archive in archives:
        ingest(ArchiveSource(archive), store)
    store.sync_text_index()  # not part of the chunk figure: done once per proposal either way
    index = ChromaIndex(open_chroma_client(url=None, path=root / name / "chroma"), "standin")
    return store, index


def bench_standin(
    root: Path, archives: list[Path], real: Embedder, vectors: dict[str, list[float]]
) -> Json:
    """chunks/s of the old and the new indexer with a zero-cost embedder, same records."""
    cfg = ChunkingSettings()
    model = StoredVectors(real, vectors)
    out: Json = {"archives": [a.name for a in archives]}
    store, index = _fresh(root, "standin-before", archives)
    with timed() as t:
        chunks = legacy_sync(store, index, model, cfg)
    out["before"] = {"chunks": chunks, "seconds": round(t.wall, 2)}
    out["before"]["chunks_per_s"] = round(chunks / t.wall, 1)
    store.close()
    store, index = _fresh(root, "standin-after", archives)
    with timed() as t:
        counts = sync_index(store, index, lambda: model, cfg)  # type: ignore[arg-type]
    out["after"] = {
        "chunks": counts.embedded_chunks,
        "vectors_computed": counts.computed_embeddings,
        "seconds": round(t.wall, 2),
        "chunks_per_s": round(counts.embedded_chunks / t.wall, 1),
        "chunks_in_index": index.count(),  # type: ignore[attr-defined]
    }
    store.close()
    ratio = out["after"]["chunks_per_s"] / out["before"]["chunks_per_s"]
    out["after_over_before"] = round(ratio, 2)
    return out
