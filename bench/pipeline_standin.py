"""The index pipeline with an embedder that costs nothing: is anything but the model slow?

On a GPU the model embeds thousands of chunks a second, so chunking, Chroma
writes and the store's bookkeeping must keep up. Here the embedder is a stand-in
that returns stored vectors (real MiniLM vectors where the bench has them, a
fixed pseudo-random unit vector per text otherwise) and counts tokens with the
real tokenizer, as chunking needs. The indexer as it first was (a delete, an add
and a bookkeeping transaction per proposal), as it was before this change (texts
and metadata in Chroma: a main collection and a lean graph per space) and as it is
now (bare vectors in Chroma, texts in the record store) run on the same records,
each into a fresh embedded Chroma with its own SQLite store. `chroma_ceiling`
measures what Chroma's own `add` can do here, so the pipeline's figure can be read
against it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from bench_common import Json, timed

from agent.chunking import chunk_proposal
from agent.indexer import BATCH_CHUNKS, sync_index
from agent.ingest import ingest
from agent.ports import Embedder
from agent.settings import ChunkingSettings
from agent.store import RecordStore


class StoredVectors:
    """An Embedder whose `embed` costs (almost) nothing; tokens counted for real.

    `wrapper_counts` counts tokens as the embedder did before (the transformers
    tokenizer wrapper) instead of the embedder's own `count_tokens`."""

    def __init__(
        self, real: Embedder, vectors: dict[str, list[float]], *, wrapper_counts: bool = False
    ) -> None:
        self.model_name = real.model_name
        self._real = real
        self._vectors = vectors
        self._wrapper_counts = wrapper_counts
        self.texts_embedded = 0

    @property
    def max_tokens(self) -> int:
        return self._real.max_tokens

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if self._wrapper_counts:
            tokenizer = self._real._load().tokenizer  # type: ignore[attr-defined]
            encoded = tokenizer(list(texts), add_special_tokens=True, truncation=False)
            return [len(ids) for ids in encoded["input_ids"]]
        return self._real.count_tokens(texts)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.texts_embedded += len(texts)
        return [self._vectors.get(t) or _pseudo_vector(t) for t in texts]


def _pseudo_vector(text: str) -> list[float]:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    v = np.random.default_rng(seed).normal(size=384)
    return list((v / np.linalg.norm(v)).tolist())


def legacy_sync(store: RecordStore, index: object, model: Embedder, cfg: ChunkingSettings) -> int:
    """The indexer before: one collection (`index` is a raw Chroma collection), per proposal
    a delete, an add and a bookkeeping transaction."""
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
        index.delete(where={"proposal_uid": proposal.uid})  # type: ignore[attr-defined]
        if chunks:
            index.add(  # type: ignore[attr-defined]
                ids=[c.id for c in chunks],
                embeddings=np.asarray(vectors[offset : offset + len(chunks)], dtype=np.float32),
                documents=[c.text for c in chunks],
                metadatas=[dict(c.metadata) for c in chunks],
            )
        offset += len(chunks)
        store.set_indexed(proposal, proposal.uid, len(chunks))
    return offset


def _fresh(
    root: Path, name: str, archives: list[Path], *, layout: str = "after"
) -> tuple[RecordStore, object]:
    from agent.passage_index import PassageIndex
    from connectors.archive import ArchiveSource
    from connectors.chroma_index import ChromaVectors, open_chroma_client

    store = RecordStore(f"sqlite:///{root / name / 'steward.db'}")
    for archive in archives:
        ingest(ArchiveSource(archive), store)
    store.sync_text_index()  # not part of the chunk figure: done once per proposal either way
    client = open_chroma_client(url=None, path=root / name / "chroma")
    if layout == "single":  # the first layout: one collection
        cosine = {"hnsw": {"space": "cosine"}}
        return store, client.create_collection(
            "standin", embedding_function=None, configuration=cosine
        )
    if layout == "before":
        from legacy_index import TextInChromaIndex

        return store, TextInChromaIndex(client, "standin")
    return store, PassageIndex(store, ChromaVectors(client, "standin"))


STANDIN_RUNS = 3
"""Each indexer runs this often, each time on a fresh home; the median is reported."""


def standin_vectors(
    root: Path, archives: list[Path], real: Embedder, known: dict[str, list[float]]
) -> dict[str, list[float]]:
    """Real model vectors for every chunk of `archives` (`known` ones are not embedded again):
    HNSW inserts clustered text embeddings faster than random vectors, so the stand-in
    returns what a real embedder would."""
    from agent.chunking import chunk_proposals

    store, _ = _fresh(root, "standin-texts", archives, layout="single")
    cfg = ChunkingSettings()
    proposals = [t.proposal for t in store.index_tasks() if t.proposal is not None]
    store.close()
    chunked = chunk_proposals(
        proposals,
        max_words=cfg.max_words,
        overlap=cfg.overlap_words,
        max_chunks=cfg.max_chunks,
        count_tokens=real.count_tokens,
        max_tokens=real.max_tokens,
    )
    texts = list(dict.fromkeys(c.text for chunks, _ in chunked for c in chunks))
    missing = [t for t in texts if t not in known]
    return {**known, **dict(zip(missing, real.embed(missing), strict=True))}


def bench_standin(
    root: Path, archives: list[Path], real: Embedder, vectors: dict[str, list[float]]
) -> Json:
    """chunks/s of the first, the previous and the current indexer with a zero-cost
    embedder, same records, median of `STANDIN_RUNS` runs each. Every run has a process
    of its own (spawned, the vectors read from a file), so no run inherits another's
    Chroma clients, caches or heap."""
    import pickle
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    stored = root / "standin-vectors.pickle"
    stored.write_bytes(pickle.dumps(vectors))
    out: Json = {"archives": [a.name for a in archives], "runs": STANDIN_RUNS}
    for name in ("legacy", "before", "after"):
        runs: list[Json] = []
        for run in range(1 if name == "legacy" else STANDIN_RUNS):
            with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
                home = root / f"standin-{name}-{run}"
                runs.append(pool.submit(_one_run, name, home, archives, stored).result())
        median = sorted(runs, key=lambda r: r["chunks_per_s"])[len(runs) // 2]
        out[name] = {**median, "chunks_per_s_runs": [r["chunks_per_s"] for r in runs]}
    out["after_over_before"] = round(
        out["after"]["chunks_per_s"] / out["before"]["chunks_per_s"], 2
    )
    out["chroma_ceiling"] = chroma_ceiling(root / "ceiling", list(vectors.items()))
    return out


def _one_run(name: str, home: Path, archives: list[Path], stored: Path) -> Json:
    """One indexer over `archives` into a fresh home (in a process of its own)."""
    import pickle

    from connectors.embeddings import SentenceTransformerEmbedder

    real = SentenceTransformerEmbedder()
    vectors = pickle.loads(stored.read_bytes())
    cfg = ChunkingSettings()
    model = StoredVectors(real, vectors, wrapper_counts=name == "legacy")
    model.count_tokens(["warm the tokenizer up"])  # loading the model is not indexing
    layout = "single" if name == "legacy" else name
    store, index = _fresh(home.parent, home.name, archives, layout=layout)
    with timed() as t:
        if name == "legacy":
            chunks = legacy_sync(store, index, model, cfg)
            computed = chunks
        else:
            counts = sync_index(store, index, lambda: model, cfg, batch_chunks=BATCH_CHUNKS)  # type: ignore[arg-type, return-value]
            chunks, computed = counts.embedded_chunks, counts.computed_embeddings
    figures: Json = {
        "chunks": chunks,
        "vectors_computed": computed,
        "seconds": round(t.wall, 2),
        "cpu_seconds": round(t.cpu, 2),
        "chunks_per_s": round(chunks / t.wall, 1),
        "chunks_in_index": index.count(),  # type: ignore[attr-defined]
    }
    store.close()
    return figures


CEILING_ROWS = 10_000


def chroma_ceiling(root: Path, texts_vectors: list[tuple[str, list[float]]]) -> Json:
    """Chroma's own `add` rate here (2,000-row calls into a fresh collection): with texts and
    metadata as the main collection held them before, without texts, a vector and one key
    (the lean graphs before) and a bare vector (every searched graph now). Also how much
    another Python thread runs during an `add`, against running alone: near 0 means `add`
    holds the GIL, so a writer thread could not overlap chunking."""
    from connectors.chroma_index import HNSW_CONFIG, open_chroma_client

    client = open_chroma_client(url=None, path=root)
    rows = [texts_vectors[i % len(texts_vectors)] for i in range(CEILING_ROWS)]
    ids = [f"p{i // 10}#{i % 10}" for i in range(CEILING_ROWS)]
    vecs = np.asarray([v for _, v in rows], dtype=np.float32)
    docs = [t for t, _ in rows]
    metas = [
        {
            "proposal_uid": f"p{i // 10}",
            "space": f"space-{i % 20}",
            "state": "closed",
            "flagged": False,
            "created": 1700000000 + i,
            "source": "snapshot",
            "title": docs[i].split("\n", 1)[0][:300],
            "chunk": i % 10,
            "text_key": hashlib.sha256(docs[i].encode()).hexdigest()[:40],
        }
        for i in range(CEILING_ROWS)
    ]
    variants = {
        "texts_and_metadata": lambda s: {"documents": docs[s], "metadatas": metas[s]},
        "metadata_no_texts": lambda s: {"metadatas": metas[s]},
        "vector_and_uid": lambda s: {
            "metadatas": [{"proposal_uid": m["proposal_uid"]} for m in metas[s]]
        },
        "bare_vector": lambda s: {},
    }
    out: Json = {"rows": CEILING_ROWS}
    for name, extra in variants.items():
        col = client.create_collection(
            f"ceiling-{name}".replace("_", "-"), embedding_function=None, configuration=HNSW_CONFIG
        )
        with timed() as t:
            for start in range(0, CEILING_ROWS, 2000):
                part = slice(start, start + 2000)
                col.add(ids=ids[part], embeddings=vecs[part], **extra(part))
        out[f"{name}_chunks_per_s"] = round(CEILING_ROWS / t.wall, 1)
    col = client.create_collection(
        "ceiling-gil", embedding_function=None, configuration=HNSW_CONFIG
    )
    with _Spinner() as spinner, timed() as t:
        col.add(
            ids=ids[:2000], embeddings=vecs[:2000], documents=docs[:2000], metadatas=metas[:2000]
        )
    during = spinner.count / t.wall
    with _Spinner() as spinner, timed() as t:
        time.sleep(0.5)
    out["python_thread_share_during_add"] = round(during / (spinner.count / t.wall), 3)
    return out


class _Spinner:
    """A Python thread counting as fast as it can: how much of the time it got the GIL."""

    def __init__(self) -> None:
        self.count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, daemon=True)

    def _spin(self) -> None:
        while not self._stop.is_set():
            self.count += 1

    def __enter__(self) -> _Spinner:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
