"""Search latency at scale: the single-collection layout (before) against one per space (after).

Embedding 100k real texts would take hours here, so the vectors are synthetic:
real MiniLM embeddings of the ENS chunks plus small seeded Gaussian noise, with
the real texts and the real metadata keys. The same rows go into both layouts:
one Chroma collection queried with a `where` on space (how Steward searched
before) and `ChromaIndex`'s collection per space with flagged proposals apart.
The top five proposals of every query are compared between the two, so the
speed-up is shown not to change what a member is told.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from bench_common import Json, timed

from agent.ports import Chunk, ChunkHit, Embedder
from agent.search import SearchHit, search

SYNTHETIC_SPACES = [f"space-{i:02d}" for i in range(20)]
FILTER_SPACE = "space-07"
CHUNKS_PER_PROPOSAL = 10
FLAGGED_EVERY = 50  # every 50th synthetic proposal is flagged: search() must drop them
NOISE_SIGMA = 0.02  # per dimension; keeps a perturbed vector at cosine ~0.93 of its original
SEED = 20240611
INSERT_BATCH = 2000
QUERY_LIMIT = 20  # what `search(limit=5)` asks the index for (5 x overfetch 4)
QUERY_REPEATS = 10  # 20 queries x 10 = 200 samples per index-query figure
DIAGNOSTIC_REPEATS = 2
E2E_REPEATS = 5
TOP = 5


def latency_stats(ms: Sequence[float]) -> Json:
    arr = np.asarray(ms, dtype=float)
    p50, p95 = np.percentile(arr, [50, 95])
    return {
        "n": len(arr),
        "p50_ms": round(float(p50), 2),
        "p95_ms": round(float(p95), 2),
        "mean_ms": round(float(arr.mean()), 2),
        "max_ms": round(float(arr.max()), 2),
    }


@dataclass
class SyntheticBatch:
    ids: list[str]
    vectors: np.ndarray
    documents: list[str]
    metadatas: list[dict[str, Any]]
    cosine_to_real: float


def synthetic_batches(
    base: np.ndarray, chunks: list[Chunk], total: int, rng: np.random.Generator
) -> Iterator[SyntheticBatch]:
    """Synthetic proposal j has 10 chunks, lives in space j % 20, is flagged when j % 50 == 0."""
    for start in range(0, total, INSERT_BATCH):
        rows = np.arange(start, min(start + INSERT_BATCH, total))
        picks = rows % len(chunks)
        noisy = base[picks] + rng.normal(0.0, NOISE_SIGMA, (len(rows), base.shape[1]))
        noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
        batch = SyntheticBatch([], noisy.astype(np.float32), [], [], 0.0)
        batch.cosine_to_real = float(np.mean(np.sum(noisy * base[picks], axis=1)))
        for row, pick in zip(rows.tolist(), picks.tolist(), strict=True):
            proposal, position = divmod(row, CHUNKS_PER_PROPOSAL)
            uid = f"bench:{proposal:06d}"
            real = chunks[pick]
            batch.ids.append(f"{uid}#{position}")
            batch.documents.append(real.text)
            batch.metadatas.append(
                {
                    **real.metadata,
                    "proposal_uid": uid,
                    "space": SYNTHETIC_SPACES[proposal % len(SYNTHETIC_SPACES)],
                    "flagged": proposal % FLAGGED_EVERY == 0,
                    "chunk": position,
                }
            )
        yield batch


def build(root: Path, base: np.ndarray, chunks: list[Chunk], total: int) -> tuple[Any, Any, Json]:
    """Both layouts over the same rows; insert time of each."""
    from connectors.chroma_index import ChromaIndex, open_chroma_client

    client = open_chroma_client(url=None, path=root)
    single = client.get_or_create_collection(
        "bench-single", embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
    )
    index = ChromaIndex(client, "bench-spaces")
    rng = np.random.default_rng(SEED)
    before = after = 0.0
    cosines = []
    for batch in synthetic_batches(base, chunks, total, rng):
        t0 = time.perf_counter()
        single.add(
            ids=batch.ids,
            embeddings=batch.vectors,
            documents=batch.documents,
            metadatas=batch.metadatas,
        )
        t1 = time.perf_counter()
        rows = list(zip(batch.ids, batch.vectors, batch.documents, batch.metadatas, strict=True))
        index._write(rows)
        after += time.perf_counter() - t1
        before += t1 - t0
        cosines.append(batch.cosine_to_real)
    return (
        single,
        index,
        {
            "chunks": index.count(),
            "synthetic_proposals": -(-total // CHUNKS_PER_PROPOSAL),
            "spaces": len(SYNTHETIC_SPACES),
            "insert_before_chunks_per_s": round(total / before, 1),
            "insert_after_chunks_per_s": round(total / after, 1),
            "mean_cosine_to_real": round(float(np.mean(cosines)), 4),
        },
    )


def single_query(single: Any, vector: Sequence[float], limit: int, where: Any) -> list[ChunkHit]:
    """The query Steward sent before: one collection, a `where` on space."""
    from connectors.chroma_index import _hits

    result = single.query(
        query_embeddings=[list(vector)],
        n_results=limit,
        where=where,
        include=["documents", "metadatas", "distances"],
    )
    return _hits(result)


def single_search(single: Any, vector: Sequence[float], space: str | None) -> list[str]:
    """search() as it was: overfetch x4, best chunk per proposal, flagged dropped after."""
    fetch, where = TOP * 4, ({"space": space} if space else None)
    while True:
        hits = single_query(single, vector, fetch, where)
        best: list[str] = []
        for h in hits:
            if h.proposal_uid not in best and not h.metadata.get("flagged"):
                best.append(h.proposal_uid)
        if len(best) >= TOP or len(hits) < fetch:
            return best[:TOP]
        fetch *= 4


def _timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return (time.perf_counter() - t0) * 1000, out


def index_only(single: Any, index: Any, vectors: list[list[float]]) -> Json:
    """Index-only latency (vectors embedded beforehand), variants interleaved."""
    space = {"space": FILTER_SPACE}
    variants: dict[str, tuple[Any, int]] = {
        "before: all spaces": (lambda v: single_query(single, v, QUERY_LIMIT, None), QUERY_REPEATS),
        f"before: {FILTER_SPACE}": (
            lambda v: single_query(single, v, QUERY_LIMIT, space),
            QUERY_REPEATS,
        ),
        "after: all spaces": (lambda v: index.query(v, limit=QUERY_LIMIT), QUERY_REPEATS),
        f"after: {FILTER_SPACE}": (
            lambda v: index.query(v, limit=QUERY_LIMIT, spaces=[FILTER_SPACE]),
            QUERY_REPEATS,
        ),
        "before, diag: where flagged=False": (
            lambda v: single_query(single, v, QUERY_LIMIT, {"flagged": False}),
            DIAGNOSTIC_REPEATS,
        ),
        "after: all spaces incl. flagged": (
            lambda v: index.query(v, limit=QUERY_LIMIT, include_flagged=True),
            DIAGNOSTIC_REPEATS,
        ),
    }
    for fn, _ in variants.values():  # the first queries load each HNSW segment
        for vector in vectors[:3]:
            fn(vector)
    samples: dict[str, list[float]] = {name: [] for name in variants}
    ok = True
    for repeat in range(QUERY_REPEATS):
        for vector in vectors:
            for name, (fn, repeats) in variants.items():
                if repeat < repeats:
                    ms, hits = _timed(lambda fn=fn, vector=vector: fn(vector))
                    samples[name].append(ms)
                    ok = ok and len(hits) == QUERY_LIMIT
                    if FILTER_SPACE in name:
                        ok = ok and all(h.metadata.get("space") == FILTER_SPACE for h in hits)
                    if name.startswith("after") and "flagged" not in name:
                        ok = ok and not any(h.metadata.get("flagged") for h in hits)
    return {"stats": {n: latency_stats(ms) for n, ms in samples.items()}, "ok": ok}


def same_results(single: Any, index: Any, embedder: Embedder, queries: list[str]) -> Json:
    """Top-5 proposals of each query, before and after, in all spaces and in one."""
    vectors = embedder.embed(queries)
    compared = identical = 0
    for vector, query in zip(vectors, queries, strict=True):
        for space in (None, FILTER_SPACE):
            old = single_search(single, vector, space)
            spaces = [space] if space else []
            new = [h.uid for h in search(query, index, embedder, spaces=spaces, limit=TOP)]
            compared += 1
            identical += old == new
    return {"queries_compared": compared, "identical_top5": identical, "ok": compared == identical}


def end_to_end(single: Any, index: Any, embedder: Embedder, queries: list[str]) -> Json:
    """search() with the query embedding, before (single collection) and after."""
    samples: dict[str, list[float]] = {
        "embed query": [],
        f"before: search {FILTER_SPACE}": [],
        "after: search all spaces": [],
        f"after: search {FILTER_SPACE}": [],
    }
    ok = True
    for _ in range(E2E_REPEATS):
        for query in queries:
            ms, vector = _timed(lambda q=query: embedder.embed([q])[0])
            samples["embed query"].append(ms)
            ms, _ = _timed(lambda v=vector: single_search(single, v, FILTER_SPACE))
            samples[f"before: search {FILTER_SPACE}"].append(ms + samples["embed query"][-1])
            for name, spaces in (("all spaces", ()), (FILTER_SPACE, (FILTER_SPACE,))):
                ms, hits = _timed(
                    lambda q=query, s=spaces: search(q, index, embedder, spaces=s, limit=TOP)
                )
                samples[f"after: search {name}"].append(ms)
                ok = ok and _respects(hits, spaces)
    return {"stats": {n: latency_stats(ms) for n, ms in samples.items()}, "ok": ok}


def _respects(hits: list[SearchHit], spaces: Sequence[str]) -> bool:
    return all(h.space in spaces for h in hits if spaces) and not any(h.flagged for h in hits)


def bench_search_scale(
    root: Path,
    base: np.ndarray,
    chunks: list[Chunk],
    total: int,
    embedder: Embedder,
    queries: list[str],
) -> Json:
    with timed() as t:
        single, index, built = build(root, base, chunks, total)
    built["build_both_s"] = round(t.wall, 1)
    vectors = embedder.embed(queries)
    timings = index_only(single, index, vectors)
    same = same_results(single, index, embedder, queries)
    e2e = end_to_end(single, index, embedder, queries)
    return {
        "index": built,
        "limit": QUERY_LIMIT,
        "index_query": timings["stats"],
        "end_to_end": e2e["stats"],
        "results_unchanged": same,
        "ok": timings["ok"] and e2e["ok"] and same["ok"],
    }
