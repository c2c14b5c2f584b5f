"""Search and index-pipeline benchmark for the vector layout (issue 14): before and after
in one run.

- Search at 100k synthetic chunks in three Chroma layouts (one collection; a full
  collection per space, the layout before; the main collection with a lean graph per
  space, the layout after), index-only and end to end, with every layout's top five
  compared with each other and with an exact ranking (`search_scale.py`).
- The index pipeline with a zero-cost embedder: the first indexer, the one before and the
  one after, plus Chroma's own `add` rates here (`pipeline_standin.py`).
- Re-ingest with nothing changed computes 0 embeddings and never loads the model.

It embeds the ENS chunks once with the real model (the synthetic vectors derive from
them), so it needs no network and takes about 10 minutes on 2 cores at 100k chunks.

    .venv/bin/python bench/search_index_bench.py [--out bench/results/search_index.json]
        [--search-chunks 100000] [--quick] [--keep-home]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from bench_common import (
    Json,
    machine_facts,
    report_failed_checks,
    run_in_fresh_home,
    say,
)
from ingest_bench import ARCHIVE, QUERIES, bench_reingest, rebuild_chunks, standin_archives
from pipeline_standin import StoredVectors, bench_standin, standin_vectors
from rich.console import Console
from search_report import render_search, render_standin
from search_scale import INSERT_BATCH, LAYOUTS, bench_search_scale

from agent.app import App
from agent.indexer import sync_index
from agent.ingest import ingest
from agent.settings import load_settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = PROJECT_ROOT / "bench" / "results" / "search_index.json"


def run(args: argparse.Namespace, home: Path, results: Json, console: Console) -> None:
    app = App(load_settings())
    say(console, f"STEWARD_HOME={home}; embedding the ENS chunks once (real model)")
    ingest(app.archive_source(ARCHIVE), app.store)
    embedder = app.embedder()
    grouped, _ = rebuild_chunks(app, embedder)
    chunks = [c for group in grouped for c in group]
    vectors = np.asarray(embedder.embed([c.text for c in chunks]), dtype=np.float32)
    real = dict(zip((c.text for c in chunks), vectors.tolist(), strict=True))
    say(console, "embedding every stand-in chunk once (real model), for the zero-cost embedder")
    known = standin_vectors(home, standin_archives(), embedder, real)
    say(console, "index pipeline with a zero-cost embedder (first, before, after)")
    results["standin_pipeline"] = bench_standin(home, standin_archives(), embedder, known)
    say(console, "re-ingest with nothing changed")
    stand_in = StoredVectors(embedder, real)
    sync_index(app.store, app.index, lambda: stand_in, app.settings.chunking)  # type: ignore[arg-type, return-value]
    results["reingest"] = bench_reingest(ARCHIVE)
    say(console, f"building {args.search_chunks:,} synthetic chunks: {', '.join(args.layouts)}")
    results["search"] = bench_search_scale(
        home / "search-chroma", vectors, chunks, args.search_chunks, embedder, QUERIES, args.layouts
    )
    app.close()
    import chromadb

    results["machine"] = machine_facts(chromadb=str(chromadb.__version__))


def checks(results: Json) -> dict[str, bool]:
    return {
        "reingest computes no embeddings and never loads the model": results["reingest"]["ok"],
        "search filters hold, top 5 as exact as one collection": results["search"]["ok"],
        "zero-cost-embedder pipeline >= 3,000 chunks/s (median run)": (
            results["standin_pipeline"]["after"]["chunks_per_s"] >= 3000
        ),
    }


def render(console: Console, r: Json) -> None:
    render_standin(console, r["standin_pipeline"])
    ri = r["reingest"]
    console.print(
        f"re-ingest, nothing changed: {ri['seconds']} s, {ri['embeddings_computed']} embeddings, "
        f"model loaded: {ri['model_loaded']}",
        highlight=False,
    )
    render_search(console, r["search"])


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    parser.add_argument("--search-chunks", type=int, default=100_000, help="synthetic index size")
    parser.add_argument("--quick", action="store_true", help="20,000 search chunks")
    parser.add_argument("--keep-home", action="store_true", help="keep the temporary home")
    parser.add_argument(
        "--layouts",
        default=",".join(LAYOUTS),
        help="layouts to build, of single,before,after (after always): `after` alone for 1M",
    )
    args = parser.parse_args(argv)
    args.layouts = [n for n in LAYOUTS if n in args.layouts.split(",") or n == "after"]
    if args.quick:
        args.search_chunks = 20_000
    if args.search_chunks < INSERT_BATCH:
        parser.error(f"--search-chunks must be at least {INSERT_BATCH}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console()
    results = run_in_fresh_home("steward-search-bench-", args, run, checks, console)
    render(console, results)
    console.print(f"results: {args.out}")
    return report_failed_checks(console, results)


if __name__ == "__main__":
    sys.exit(main())
