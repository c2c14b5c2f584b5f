"""How wide must HNSW search to find the exact top 5 at scale? A diagnostic for a search
index that `search_index_bench.py --keep-home` left behind (1M chunks: 20 minutes to build,
so the widths are tried on the same graph, not on rebuilt ones).

For each `ef_search` of the main collection (all spaces) it reports how many of the bench
questions return exactly the brute-force top 5 proposals, and the index-query latency.
Run once per width: Chroma keeps a loaded graph's search width for the life of a process.

    STEWARD_HOME=<kept home> .venv/bin/python bench/search_width.py --ef 400 \\
        --chunks 1000000 [--out bench/results/search_width.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from ingest_bench import QUERIES, rebuild_chunks
from search_scale import SEED, Exact, latency_stats, same_results, synthetic_batches

from agent.app import App
from agent.settings import load_settings
from connectors.chroma_index import ChromaIndex, open_chroma_client


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ef", type=int, required=True)
    parser.add_argument("--chunks", type=int, required=True, help="as built by the bench")
    parser.add_argument("--out", type=Path, default=Path("bench/results/search_width.json"))
    args = parser.parse_args()
    home = Path(os.environ["STEWARD_HOME"])
    app = App(load_settings())
    embedder = app.embedder()
    grouped, _ = rebuild_chunks(app, embedder)
    chunks = [c for group in grouped for c in group]
    base = np.asarray(embedder.embed([c.text for c in chunks]), dtype=np.float32)
    vectors, uids, spaces, flagged = [], [], [], []
    for batch in synthetic_batches(base, chunks, args.chunks, np.random.default_rng(SEED)):
        vectors.append(batch.vectors)
        uids += [m["proposal_uid"] for m in batch.metadatas]
        spaces += [m["space"] for m in batch.metadatas]
        flagged += [m["flagged"] for m in batch.metadatas]
    exact = Exact(np.concatenate(vectors), uids, np.asarray(spaces), np.asarray(flagged))
    client = open_chroma_client(url=None, path=home / "search-chroma" / "after")
    client.get_collection("bench.all").modify(configuration={"hnsw": {"ef_search": args.ef}})
    index = ChromaIndex(client, "bench")
    queries = embedder.embed(QUERIES)
    for q in queries[:3]:  # loads the graph
        index.query(q, limit=20)
    ms = []
    for _ in range(5):
        for q in queries:
            t0 = time.perf_counter()
            index.query(q, limit=20)
            ms.append((time.perf_counter() - t0) * 1000)
    same = same_results({"after": index}, exact, embedder, QUERIES)
    all_spaces = [m for m in same["misses_vs_exact"] if m["space"] is None]
    row = {
        "ef_search": args.ef,
        "chunks": args.chunks,
        "all_spaces_questions": len(QUERIES),
        "all_spaces_exact_top5": len(QUERIES) - len(all_spaces),
        "in_space_misses": len(same["misses_vs_exact"]) - len(all_spaces),
        "index_query_all_spaces": latency_stats(ms),
    }
    print(json.dumps(row), flush=True)
    rows = json.loads(args.out.read_text()) if args.out.exists() else []
    rows = [r for r in rows if (r["ef_search"], r["chunks"]) != (args.ef, args.chunks)]
    args.out.write_text(json.dumps([*rows, row], indent=2) + "\n")
    app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
