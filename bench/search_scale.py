"""Search latency at scale, three Chroma layouts over the same rows, each against exact search.

Embedding 100k real texts would take hours here, so the vectors are synthetic:
real MiniLM embeddings of the ENS chunks plus small seeded Gaussian noise, with
the real texts and the real metadata keys. The same rows go into
- *single*: one collection queried with a `where` on space (how Steward searched first);
- *before*: texts and metadata in one main Chroma collection, a lean vectors-only graph
  per space, flagged apart (`bench/legacy_index.py`, issue 14's second round);
- *after*: `PassageIndex`: bare vectors in Chroma in the same graphs
  (`connectors/chroma_index.py`), texts in the record store's passages table.
Each layout's top five proposals per query are compared with each other and with an
exact (brute-force) ranking of the same vectors, so a difference between layouts can
be told apart from which one is right.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from bench_common import Json, timed
from legacy_index import TextInChromaIndex, _hits

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
LAYOUTS = ("single", "before", "after")


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


@dataclass
class Exact:
    """Every row's vector and metadata: the brute-force reference ranking."""

    vectors: np.ndarray
    uids: list[str]
    spaces: np.ndarray
    flagged: np.ndarray

    def top(self, vector: Sequence[float], space: str | None, n: int = TOP) -> list[str]:
        """Best `n` unflagged proposals by their nearest chunk, exactly."""
        distance = 1.0 - self.vectors @ np.asarray(vector, dtype=np.float32)
        allowed = ~self.flagged if space is None else ~self.flagged & (self.spaces == space)
        best: list[str] = []
        for i in np.argsort(np.where(allowed, distance, np.inf)):
            if self.uids[i] not in best:
                best.append(self.uids[i])
            if len(best) == n:
                break
        return best

    def gap(self, vector: Sequence[float], space: str | None) -> float:
        """Distance between the exact 5th and 6th proposal: ~0 means a tie decides the 5th."""
        distance = 1.0 - self.vectors @ np.asarray(vector, dtype=np.float32)
        allowed = ~self.flagged if space is None else ~self.flagged & (self.spaces == space)
        per: dict[str, float] = {}
        for i in np.argsort(np.where(allowed, distance, np.inf)):
            per.setdefault(self.uids[i], float(distance[i]))
            if len(per) > TOP:
                break
        values = list(per.values())
        return values[TOP] - values[TOP - 1]


def _disk_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6, 1)


def build(
    root: Path, base: np.ndarray, chunks: list[Chunk], total: int, names: Sequence[str] = LAYOUTS
) -> tuple[dict[str, Any], Exact, Json]:
    """The layouts `names` over the same rows, each in its own Chroma directory."""
    from agent.passage_index import PassageIndex
    from agent.store import RecordStore
    from connectors.chroma_index import HNSW_CONFIG, ChromaVectors, open_chroma_client

    made: dict[str, Any] = {}
    writers: dict[str, Callable[[SyntheticBatch], None]] = {}
    if "single" in names:
        single = open_chroma_client(url=None, path=root / "single").get_or_create_collection(
            "bench-single", embedding_function=None, configuration=HNSW_CONFIG
        )
        made["single"] = single
        writers["single"] = lambda b: single.add(
            ids=b.ids, embeddings=b.vectors, documents=b.documents, metadatas=b.metadatas
        )
    if "before" in names:
        before = TextInChromaIndex(open_chroma_client(url=None, path=root / "before"), "bench")
        made["before"] = before
        writers["before"] = lambda b: before._write(_rows(b))
    (root / "after").mkdir(parents=True, exist_ok=True)
    store = RecordStore(f"sqlite:///{root / 'after' / 'passages.db'}")
    vectors_after = ChromaVectors(open_chroma_client(url=None, path=root / "after"), "bench")
    after = PassageIndex(store, vectors_after)
    made["after"] = after
    writers["after"] = lambda b: after.replace_many(_items(b))
    seconds = dict.fromkeys(writers, 0.0)
    vectors, uids, spaces, flagged, cosines = [], [], [], [], []
    for batch in synthetic_batches(base, chunks, total, np.random.default_rng(SEED)):
        for name in writers:
            t0 = time.perf_counter()
            writers[name](batch)
            seconds[name] += time.perf_counter() - t0
        vectors.append(batch.vectors)
        uids += [m["proposal_uid"] for m in batch.metadatas]
        spaces += [m["space"] for m in batch.metadatas]
        flagged += [m["flagged"] for m in batch.metadatas]
        cosines.append(batch.cosine_to_real)
    exact = Exact(np.concatenate(vectors), uids, np.asarray(spaces), np.asarray(flagged))
    figures: Json = {
        "chunks": after.count(),
        "synthetic_proposals": -(-total // CHUNKS_PER_PROPOSAL),
        "spaces": len(SYNTHETIC_SPACES),
        "mean_cosine_to_real": round(float(np.mean(cosines)), 4),
        "hnsw": HNSW_CONFIG["hnsw"],
    }
    for name in writers:
        figures[f"insert_{name}_chunks_per_s"] = round(total / seconds[name], 1)
        figures[f"disk_{name}_mb"] = _disk_mb(root / name)
    return made, exact, figures


def _rows(batch: SyntheticBatch) -> list[tuple[str, Any, str, Any]]:
    return list(zip(batch.ids, batch.vectors, batch.documents, batch.metadatas, strict=True))


def _items(batch: SyntheticBatch) -> list[tuple[str, list[Chunk], list[Any]]]:
    """A batch as the indexer hands it over: per proposal, its chunks and vectors."""
    items: dict[str, tuple[list[Chunk], list[Any]]] = {}
    for cid, vector, doc, meta in _rows(batch):
        uid = str(meta["proposal_uid"])
        chunks, vectors = items.setdefault(uid, ([], []))
        chunks.append(Chunk(id=cid, proposal_uid=uid, index=len(chunks), text=doc, metadata=meta))
        vectors.append(vector)
    return [(uid, chunks, vectors) for uid, (chunks, vectors) in items.items()]


def single_query(single: Any, vector: Sequence[float], limit: int, where: Any) -> list[ChunkHit]:
    """The query Steward sent first: one collection, a `where` on space."""
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


def index_only(layouts: dict[str, Any], vectors: list[list[float]]) -> Json:
    """Index-only latency (vectors embedded beforehand), variants interleaved."""
    after = layouts["after"]
    space = {"space": FILTER_SPACE}
    variants: dict[str, tuple[Any, int]] = {}
    if (single := layouts.get("single")) is not None:
        variants["single: all spaces"] = (
            lambda v: single_query(single, v, QUERY_LIMIT, None),
            QUERY_REPEATS,
        )
        variants[f"single: {FILTER_SPACE}"] = (
            lambda v: single_query(single, v, QUERY_LIMIT, space),
            DIAGNOSTIC_REPEATS,
        )
    for name, index in ((n, layouts[n]) for n in ("before", "after") if n in layouts):
        variants[f"{name}: all spaces"] = (
            lambda v, i=index: i.query(v, limit=QUERY_LIMIT),
            QUERY_REPEATS,
        )
        variants[f"{name}: {FILTER_SPACE}"] = (
            lambda v, i=index: i.query(v, limit=QUERY_LIMIT, spaces=[FILTER_SPACE]),
            QUERY_REPEATS,
        )
    variants["after: all spaces incl. flagged"] = (
        lambda v: after.query(v, limit=QUERY_LIMIT, include_flagged=True),
        DIAGNOSTIC_REPEATS,
    )
    variants[f"after: {FILTER_SPACE} incl. flagged"] = (
        lambda v: after.query(v, limit=QUERY_LIMIT, spaces=[FILTER_SPACE], include_flagged=True),
        DIAGNOSTIC_REPEATS,
    )
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
                    if not name.startswith("single") and "flagged" not in name:
                        ok = ok and not any(h.metadata.get("flagged") for h in hits)
    return {"stats": {n: latency_stats(ms) for n, ms in samples.items()}, "ok": ok}


def same_results(
    layouts: dict[str, Any], exact: Exact, embedder: Embedder, queries: list[str]
) -> Json:
    """Top-5 proposals of each query in every layout and exactly, in all spaces and in one."""
    vectors = embedder.embed(queries)
    compared = 0
    agree: dict[str, int] = {
        "after_vs_before": 0,
        "after_vs_single": 0,
        "single_vs_exact": 0,
        "before_vs_exact": 0,
        "after_vs_exact": 0,
    }
    misses: list[Json] = []
    for vector, query in zip(vectors, queries, strict=True):
        for space in (None, FILTER_SPACE):
            spaces = [space] if space else []
            top = {"exact": exact.top(vector, space)}
            if "single" in layouts:
                top["single"] = single_search(layouts["single"], vector, space)
            for name in ("before", "after"):
                if name in layouts:
                    hits = search(query, layouts[name], embedder, spaces=spaces, limit=TOP)
                    top[name] = [h.uid for h in hits]
            compared += 1
            for pair in agree:
                a, b = pair.split("_vs_")
                agree[pair] += a in top and b in top and top[a] == top[b]
            for name in (n for n in LAYOUTS if n in top):
                if top[name] != top["exact"]:
                    misses.append(
                        {
                            "layout": name,
                            "query": query,
                            "space": space,
                            "exact_5th_6th_gap": round(exact.gap(vector, space), 6),
                            "missing": [u for u in top["exact"] if u not in top[name]],
                            "extra": [u for u in top[name] if u not in top["exact"]],
                        }
                    )
    after = [m for m in misses if m["layout"] == "after"]
    single = [m for m in misses if m["layout"] == "single"]
    return {
        "queries_compared": compared,
        **{
            f"identical_top5_{pair}": n
            for pair, n in agree.items()
            if all(side in layouts or side == "exact" for side in pair.split("_vs_"))
        },
        "misses_vs_exact": misses,
        # A space's graph is small enough to search exactly; across all spaces the main graph
        # is one HNSW over everything, like the single collection, and must do no worse.
        "ok": not any(m["space"] for m in after)
        and ("single" not in layouts or len(after) <= len(single)),
    }


def end_to_end(layouts: dict[str, Any], embedder: Embedder, queries: list[str]) -> Json:
    """search() with the query embedding, before (a collection per space) and after."""
    samples: dict[str, list[float]] = {"embed query": []}
    ok = True
    for _ in range(E2E_REPEATS):
        for query in queries:
            ms, _ = _timed(lambda q=query: embedder.embed([q])[0])
            samples["embed query"].append(ms)
            for name in (n for n in ("before", "after") if n in layouts):
                for label, spaces in (("all spaces", ()), (FILTER_SPACE, (FILTER_SPACE,))):
                    ms, hits = _timed(
                        lambda q=query, s=spaces, i=layouts[name]: search(
                            q, i, embedder, spaces=s, limit=TOP
                        )
                    )
                    samples.setdefault(f"{name}: search {label}", []).append(ms)
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
    names: Sequence[str] = LAYOUTS,
) -> Json:
    with timed() as t:
        layouts, exact, built = build(root, base, chunks, total, names)
    built["build_all_s"] = round(t.wall, 1)
    vectors = embedder.embed(queries)
    timings = index_only(layouts, vectors)
    same = same_results(layouts, exact, embedder, queries)
    e2e = end_to_end(layouts, embedder, queries)
    return {
        "index": built,
        "limit": QUERY_LIMIT,
        "index_query": timings["stats"],
        "end_to_end": e2e["stats"],
        "results_unchanged": same,
        "ok": timings["ok"] and e2e["ok"] and same["ok"],
    }
