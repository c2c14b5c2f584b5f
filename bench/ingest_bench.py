"""Steward's ingest and search benchmark.

Why it measures what it does:

- On CPU, embedding dominates ingest. A chunks/s figure for the pipeline only
  means something next to the raw embedding figure of the same model on the
  same machine in the same run, so both are measured here over the very same
  chunk texts; their ratio is what chunking, the record store and Chroma
  writes cost on top of the model.
- A re-ingest with nothing changed must compute no embeddings and never load
  the model; this is checked, and the run fails (exit 1) if it does.
- Search latency matters at a realistic index size (100k chunks). Embedding
  that many texts would take hours here, so those vectors are synthetic:
  real MiniLM embeddings of the ENS chunks plus small seeded Gaussian noise.
- `steward --help` must start fast, so it must not import torch,
  sentence-transformers or chromadb; that is checked too.

Everything runs in a fresh temporary STEWARD_HOME; STEWARD_CONFIG and
STEWARD__* variables are dropped so no user setting can point it elsewhere.

    .venv/bin/python bench/ingest_bench.py [--out bench/results/latest.json]
        [--search-chunks 100000] [--quick] [--keep-home]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from itertools import zip_longest
from pathlib import Path
from typing import Any

import numpy as np
from bench_common import (
    Json,
    Timing,
    figure_table,
    loadavg,
    machine_facts,
    report_failed_checks,
    run_in_fresh_home,
    say,
    shared_data,
    timed,
)
from pipeline_standin import bench_standin, standin_vectors
from rich.console import Console
from search_report import render_search, render_standin
from search_scale import (
    FLAGGED_EVERY,
    INSERT_BATCH,
    NOISE_SIGMA,
    SEED,
    SYNTHETIC_SPACES,
    bench_search_scale,
)

from agent.app import App
from agent.chunking import chunk_proposal
from agent.indexer import BATCH_CHUNKS, sync_index
from agent.ingest import ingest
from agent.ports import Chunk, Embedder
from agent.settings import load_settings
from connectors.embeddings import token_batches

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ARCHIVE = PROJECT_ROOT / "config" / "demo" / "ens-proposals.jsonl"
DEFAULT_OUT = PROJECT_ROOT / "bench" / "results" / "latest.json"

HEAVY_MODULES = ("torch", "sentence_transformers", "chromadb")
HELP_RUNS = 10


QUERIES = [
    "How is the DAO treasury allocated to working groups?",
    "Who can propose changes to the constitution?",
    "Funding public goods grants",
    "Compensation for stewards and working group leads",
    "Changing the price of .eth name registrations",
    "Delegating voting power to delegates",
    "Transfer contract ownership to the DAO",
    "A security council with veto power",
    "Service provider program funding streams",
    "Selling ETH for USDC to cover operating expenses",
    "Endowment investment strategy and risk limits",
    "Reimbursing legal fees",
    "Revoking the root key of the registry",
    "Changing quorum and the voting period",
    "Airdrop of governance tokens",
    "Paying for a smart contract security audit",
    "Name resolution on layer 2 networks",
    "Retroactive grants for contributors",
    "Budget request of the meta-governance working group",
    "Term limits and elections for stewards",
]


# ---- small helpers ---------------------------------------------------------
# ---- environment ------------------------------------------------------------
# ---- 4. CLI start-up ---------------------------------------------------------
_HELP_MODULES = """
import json, sys
from agent.cli.main import app
try:
    app(["--help"], prog_name="steward")
except SystemExit:
    pass
sys.stderr.write("BENCH_MODULES=" + json.dumps(sorted(sys.modules)) + "\\n")
"""


def steward_binary() -> Path:
    """The venv's `steward` console script, next to this interpreter."""
    candidate = Path(sys.executable).with_name("steward")
    return candidate if candidate.exists() else PROJECT_ROOT / ".venv" / "bin" / "steward"


def marker_line(text: str, marker: str) -> Any:
    """The JSON after `marker` on a line of a subprocess's stderr."""
    for line in text.splitlines():
        if line.startswith(marker):
            return json.loads(line[len(marker) :])
    raise RuntimeError(f"subprocess did not report {marker!r}:\n{text[-2000:]}")


def import_times(stderr: str, top: int = 5) -> Json:
    """From `python -X importtime`: the CLI module's total, and the slowest third-party packages.

    Stdlib and private modules are left out: only packages Steward chose to import at start-up
    can be moved behind a lazy import.
    """
    total_ms, packages = 0.0, []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = (part.strip() for part in line.split("|"))
        ms = round(int(cumulative) / 1000, 1)
        if name == "agent.cli.main":
            total_ms = ms
        elif "." not in name and name not in sys.stdlib_module_names and name[0] != "_":
            packages.append({"module": name, "ms": ms})
    slowest = sorted(packages, key=lambda r: -r["ms"])[:top]
    return {"agent_cli_main_ms": total_ms, "slowest_packages": slowest}


def heavy_roots(modules: list[str]) -> list[str]:
    """The heavy top-level packages among imported module names."""
    return sorted({m.split(".")[0] for m in modules} & set(HEAVY_MODULES))


def bench_cli_help(env: dict[str, str]) -> Json:
    """Median/min wall time of `steward --help`, and which heavy modules it imports."""
    binary = steward_binary()
    walls = []
    for run in range(HELP_RUNS + 1):
        t0 = time.perf_counter()
        proc = subprocess.run([str(binary), "--help"], env=env, capture_output=True, check=False)
        elapsed = (time.perf_counter() - t0) * 1000
        if proc.returncode != 0:
            raise RuntimeError(f"steward --help exited {proc.returncode}: {proc.stderr.decode()}")
        if run:  # the first run only warms the page cache
            walls.append(elapsed)
    proc = subprocess.run(
        [sys.executable, "-c", _HELP_MODULES], env=env, capture_output=True, text=True, check=True
    )
    heavy = heavy_roots(marker_line(proc.stderr, "BENCH_MODULES="))
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "from agent.cli.main import app"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return {
        "binary": str(binary),
        "runs": HELP_RUNS,
        "median_ms": round(float(np.median(walls)), 1),
        "min_ms": round(min(walls), 1),
        "heavy_modules_imported": heavy,
        "ok": not heavy,
        "import_time": import_times(proc.stderr),
    }


# ---- 1. ingest pipeline vs raw embedding ----------------------------------
def warm_up(app: App) -> Json:
    """Load the model and open Chroma before any timing, so neither side pays for it."""
    with timed() as load:
        embedder = app.embedder()
        _ = embedder.max_tokens  # forces the model load
    with timed() as first:
        embedder.embed(["warm-up text", "another short warm-up text", QUERIES[0]])
    with timed() as chroma:
        _ = app.index
    return {
        "model_load_s": round(load.wall, 2),
        "first_embed_s": round(first.wall, 3),
        "chroma_open_s": round(chroma.wall, 2),
    }


def ingest_records(app: App, archive: Path) -> Json:
    """The real record ingest (SQLite); not part of either embedding figure."""
    with timed() as t:
        counts = ingest(app.archive_source(archive), app.store)
    return {"proposals": counts.new, "seconds": round(t.wall, 3)}


def bench_pipeline(app: App) -> Json:
    """The timed indexing step: chunk + embed + Chroma writes + store bookkeeping."""
    load_before = loadavg()
    with timed() as t:
        index_counts = sync_index(app.store, app.index, app.embedder_factory, app.settings.chunking)
    chunks = index_counts.embedded_chunks
    return {
        "index_counts": index_counts.model_dump(),
        "embedded_chunks": chunks,
        "chunks_in_index": app.index.count(),
        "seconds": round(t.wall, 2),
        "cpu_seconds": round(t.cpu, 2),
        "chunks_per_s": round(chunks / t.wall, 2),
        "loadavg_before": load_before,
        "loadavg_after": loadavg(),
    }


def rebuild_chunks(app: App, embedder: Embedder) -> tuple[list[list[Chunk]], float]:
    """The pipeline's chunks, rebuilt the way sync_index builds them (grouped by proposal)."""
    cfg = app.settings.chunking
    grouped = []
    with timed() as t:
        for proposal in app.store.proposals():
            chunks, _ = chunk_proposal(
                proposal,
                max_words=cfg.max_words,
                overlap=cfg.overlap_words,
                max_chunks=cfg.max_chunks,
                count_tokens=embedder.count_tokens,
                max_tokens=embedder.max_tokens,
            )
            grouped.append(chunks)
    return grouped, t.wall


def raw_encode(embedder: Any, batch: list[str]) -> list[list[float]]:
    """The raw baseline as first defined: sentence-transformers' `encode` on one batch in
    chunk order, exactly as `embedder.embed` called it before it batched by tokens."""
    vectors = embedder._load().encode(
        batch,
        batch_size=len(batch),
        normalize_embeddings=True,
        show_progress_bar=False,
        convert_to_numpy=True,
    )
    return list(vectors.tolist())


def embed_batches(
    embedder: Embedder, batches: list[list[str]]
) -> tuple[Timing, list[list[list[float]]]]:
    """Raw `encode` alone, one call per batch; the vectors per batch."""
    with timed() as t:
        vectors = [raw_encode(embedder, batch) for batch in batches]
    return t, vectors


def raw_figures(first: Timing, second: Timing, chunks: tuple[int, int], batch_size: int) -> Json:
    """Raw throughput over both halves, and each half alone.

    The halves run before and after the pipeline; if their rates differ a lot,
    background load changed during the run and the ratio is suspect.
    """
    wall, cpu = first.wall + second.wall, first.cpu + second.cpu
    before, after = chunks[0] / first.wall, chunks[1] / second.wall
    return {
        "chunks": sum(chunks),
        "batch_size": batch_size,
        "seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "chunks_per_s": round(sum(chunks) / wall, 2),
        "before_pipeline_chunks_per_s": round(before, 2),
        "after_pipeline_chunks_per_s": round(after, 2),
        "drift_after_over_before": round(after / before, 3),
    }


def padded_tokens(calls: list[list[str]], tokens: dict[str, int], batch_size: int) -> int:
    """Tokens the model actually runs, padding included.

    sentence-transformers sorts each `encode` call's texts by character length
    and pads every batch to its longest text, so how texts are grouped into
    calls changes the work. This explains pipeline/raw ratios above 1.
    """
    total = 0
    for call in calls:
        ordered = sorted(call, key=len, reverse=True)
        for start in range(0, len(ordered), batch_size):
            batch = ordered[start : start + batch_size]
            total += max(tokens[t] for t in batch) * len(batch)
    return total


def padding_estimate(grouped: list[list[Chunk]], embedder: Embedder, batch_size: int) -> Json:
    """Padded token counts of the pipeline's embed calls, the raw run's, and two alternatives.

    `token_sorted` is what batching all chunks by token count would cost: the
    gap to `pipeline` is work an indexer could skip.
    """
    texts = [c.text for chunks in grouped for c in chunks]
    counts = [min(n, embedder.max_tokens) for n in embedder.count_tokens(texts)]
    tokens = dict(zip(texts, counts, strict=True))
    pipeline_calls: list[list[str]] = [[]]
    for chunks in grouped:  # sync_index flushes once >= batch_chunks are pending
        pipeline_calls[-1].extend(c.text for c in chunks)
        if len(pipeline_calls[-1]) >= BATCH_CHUNKS:
            pipeline_calls.append([])
    raw_calls = [texts[i : i + batch_size] for i in range(0, len(texts), batch_size)]
    by_tokens = sorted(counts, reverse=True)
    pipeline_padded = 0
    for call in pipeline_calls:  # what SentenceTransformerEmbedder.embed now runs
        distinct = list(dict.fromkeys(call))
        lengths = [tokens[t] for t in distinct]
        for batch in token_batches(lengths, batch_size, embedder.max_tokens):
            pipeline_padded += lengths[batch[0]] * len(batch)
    return {
        "real_tokens": sum(counts),
        "distinct_texts": len(set(texts)),
        "pipeline_padded_tokens": pipeline_padded,
        "before_pipeline_padded_tokens": padded_tokens(pipeline_calls, tokens, batch_size),
        "raw_padded_tokens": padded_tokens(raw_calls, tokens, batch_size),
        "one_call_char_sorted_padded_tokens": padded_tokens([texts], tokens, batch_size),
        "token_sorted_padded_tokens": sum(
            max(by_tokens[i : i + batch_size]) * len(by_tokens[i : i + batch_size])
            for i in range(0, len(by_tokens), batch_size)
        ),
    }


# ---- 2. re-ingest with nothing changed -------------------------------------
_COLD_REINGEST = """
import json, sys
from agent.cli.main import app
try:
    app(["ingest", "--from-file", sys.argv[1], "--json"], prog_name="steward")
except SystemExit as exc:
    if exc.code:
        raise
sys.stderr.write("BENCH_MODULES=" + json.dumps(sorted(sys.modules)) + "\\n")
"""


def bench_reingest(archive: Path) -> Json:
    """In-process re-run on the same home with a fresh App: no embeddings, no model."""
    with timed() as total:
        app = App(load_settings())
        with timed() as records:
            counts = ingest(app.archive_source(archive), app.store)
        with timed() as chroma:
            index = app.index  # sync_index needs it even when there is nothing to do
        with timed() as indexing:
            index_counts = sync_index(app.store, index, app.embedder_factory, app.settings.chunking)
    model_loaded = app._embedder is not None
    app.close()
    ok = index_counts.embedded_chunks == 0 and not model_loaded
    return {
        "seconds": round(total.wall, 3),
        "record_ingest_s": round(records.wall, 3),
        "chroma_open_s": round(chroma.wall, 3),
        "sync_index_s": round(indexing.wall, 3),
        "ingest_counts": counts.model_dump(),
        "embeddings_computed": index_counts.embedded_chunks,
        "model_loaded": model_loaded,
        "ok": ok,
    }


def bench_reingest_cli(archive: Path, env: dict[str, str]) -> Json:
    """The same no-change re-run as a user sees it: a cold `steward ingest` process."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _COLD_REINGEST, str(archive)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"steward ingest failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    result = json.loads(proc.stdout)
    heavy = heavy_roots(marker_line(proc.stderr, "BENCH_MODULES="))
    embedded = result["index"]["embedded_chunks"]
    return {
        "seconds": round(wall, 2),
        "embeddings_computed": embedded,
        "heavy_modules_imported": heavy,
        "ok": embedded == 0 and "sentence_transformers" not in heavy,
    }


# ---- the run ------------------------------------------------------------------
def run_config(app: App, args: argparse.Namespace) -> Json:
    """The settings every figure depends on."""
    return {
        "archive": str(
            ARCHIVE.relative_to(PROJECT_ROOT) if ARCHIVE.is_relative_to(PROJECT_ROOT) else ARCHIVE
        ),
        "embedding": app.settings.embedding.model_dump(),
        "chunking": app.settings.chunking.model_dump(),
        "search_chunks": args.search_chunks,
        "quick": args.quick,
        "noise_sigma": NOISE_SIGMA,
        "seed": SEED,
        "synthetic_spaces": len(SYNTHETIC_SPACES),
        "flagged_every": FLAGGED_EVERY,
    }


def contention(raw: Json, pipeline: Json) -> Json:
    """Was the machine busy with other work? Then the wall-clock ratio is not to be trusted.

    Signs: the two raw halves ran at clearly different rates, or the load average
    rose above what this process alone puts there (about one per core).
    """
    cpus = os.cpu_count() or 1
    peak = max(pipeline["loadavg_before"][0], pipeline["loadavg_after"][0])
    drift = raw["drift_after_over_before"]
    return {
        "suspected": not 0.85 <= drift <= 1.18 or peak > cpus + 1,
        "raw_drift": drift,
        "peak_loadavg_1min": peak,
    }


def bench_ingest(app: App, results: Json, console: Console) -> tuple[list[Chunk], np.ndarray]:
    """Figures 1: pipeline vs raw embedding. Returns the chunks and their real vectors.

    The raw run is split in two (alternate batches) around the pipeline run, so
    a change of background load on this shared machine hits both sides alike.
    """
    say(console, "loading the model and opening Chroma (not timed as ingest)")
    results["warm_up"] = warm_up(app)
    results["records"] = ingest_records(app, ARCHIVE)
    embedder = app.embedder()
    batch_size = app.settings.embedding.batch_size
    grouped, rebuild_s = rebuild_chunks(app, embedder)
    chunks = [c for group in grouped for c in group]
    texts = [c.text for c in chunks]
    batches = [texts[i : i + batch_size] for i in range(0, len(texts), batch_size)]
    say(console, f"raw embed(), first half of {len(texts)} chunk texts")
    first, first_vectors = embed_batches(embedder, batches[0::2])
    say(console, f"ingest pipeline: sync_index of {ARCHIVE.name}")
    results["pipeline"] = pipeline = bench_pipeline(app)
    say(console, "raw embed(), second half")
    second, second_vectors = embed_batches(embedder, batches[1::2])
    if len(chunks) != pipeline["embedded_chunks"]:
        raise RuntimeError(
            f"rebuilt {len(chunks)} chunks but the pipeline embedded {pipeline['embedded_chunks']}"
        )
    halves = (sum(map(len, batches[0::2])), sum(map(len, batches[1::2])))
    results["raw_embedding"] = raw = raw_figures(first, second, halves, batch_size)
    raw["rebuild_chunks_s"] = round(rebuild_s, 2)
    results["padding"] = pad = padding_estimate(grouped, embedder, batch_size)
    ratio = pipeline["chunks_per_s"] / raw["chunks_per_s"]
    results["pipeline_over_raw"] = round(ratio, 3)
    results["pipeline_over_raw_cpu"] = round(raw["cpu_seconds"] / pipeline["cpu_seconds"], 3)
    # Model work is roughly proportional to padded tokens: rescale raw to the pipeline's padding.
    adjust = pad["pipeline_padded_tokens"] / pad["raw_padded_tokens"]
    pad["pipeline_over_raw_padding_adjusted"] = round(ratio * adjust, 3)
    results["contention"] = contention(raw, pipeline)
    ordered = [v for pair in zip_longest(first_vectors, second_vectors) for v in pair if v]
    vectors = np.asarray([row for batch in ordered for row in batch], dtype=np.float32)
    results["vector_agreement"] = vector_agreement(app, chunks, vectors)
    return chunks, vectors


def vector_agreement(app: App, chunks: list[Chunk], raw: np.ndarray) -> Json:
    """Cosine between what the pipeline stored and the raw baseline's vector, chunk by chunk."""
    stored: dict[str, Any] = {}
    by_proposal: dict[str, list[Chunk]] = {}
    for c in chunks:
        by_proposal.setdefault(c.proposal_uid, []).append(c)
    for uid, group in by_proposal.items():  # the index returns a proposal's vectors in order
        ordered = sorted(group, key=lambda c: c.index)
        stored.update(zip((c.id for c in ordered), app.index.vectors(uid), strict=True))
    mine = np.asarray([stored[c.id] for c in chunks], dtype=np.float32)
    cos = np.sum(mine * raw, axis=1) / (np.linalg.norm(mine, axis=1) * np.linalg.norm(raw, axis=1))
    return {
        "chunks": len(chunks),
        "min_cosine": round(float(cos.min()), 5),
        "mean_cosine": round(float(cos.mean()), 6),
        "ok": bool(cos.min() >= 0.999),
    }


def standin_archives() -> list[Path]:
    """ENS plus the smaller DAO corpora of the shared data where present (more chunks,
    a bench that stays within minutes)."""
    shared = shared_data() / "dao-proposals"
    names = ("aragon-proposals.jsonl", "celo-proposals.jsonl", "yearn-proposals.jsonl")
    return [ARCHIVE, *(shared / n for n in names if (shared / n).exists())]


def checks(results: Json) -> dict[str, bool]:
    """What must hold for the run to pass (exit 0)."""
    help_ok = results["cli_help"]["ok"]
    return {
        "reingest computes no embeddings and never loads the model": results["reingest"]["ok"],
        "cold CLI re-ingest computes no embeddings": results["reingest_cli"]["ok"],
        "steward --help imports none of torch, sentence_transformers, chromadb": help_ok,
        "search filters respected": results["search"]["ok"],
        "stored vectors agree with the raw baseline (cosine >= 0.999)": results["vector_agreement"][
            "ok"
        ],
    }


def _chromadb_version() -> str:
    import chromadb

    return str(chromadb.__version__)


def run(args: argparse.Namespace, home: Path, results: Json, console: Console) -> None:
    """All measurements, in an order where nothing heavy is loaded twice."""
    env = dict(os.environ)
    say(console, f"STEWARD_HOME={home}")
    say(console, f"steward --help x{HELP_RUNS}")
    results["cli_help"] = bench_cli_help(env)
    app = App(load_settings())
    results["config"] = run_config(app, args)
    chunks, vectors = bench_ingest(app, results, console)
    say(console, "index pipeline with a zero-cost embedder (old indexer, then new)")
    real = dict(zip((c.text for c in chunks), vectors.tolist(), strict=True))
    real = standin_vectors(home, standin_archives(), app.embedder(), real)
    results["standin_pipeline"] = bench_standin(home, standin_archives(), app.embedder(), real)
    say(console, "re-ingest with nothing changed (in process, then a cold CLI process)")
    results["reingest"] = bench_reingest(ARCHIVE)
    results["reingest_cli"] = bench_reingest_cli(ARCHIVE, env)
    say(console, f"building {args.search_chunks:,} synthetic chunks in three Chroma layouts")
    results["search"] = bench_search_scale(
        home / "search-chroma", vectors, chunks, args.search_chunks, app.embedder(), QUERIES
    )
    app.close()
    results["machine"] = machine_facts(chromadb=_chromadb_version())


# ---- report -------------------------------------------------------------------
def _p50_p95(stats: Json) -> str:
    return f"p50 {stats['p50_ms']} ms  p95 {stats['p95_ms']} ms"


def render(console: Console, r: Json) -> None:
    """The human-readable report; the JSON file holds everything."""
    p, raw, pad = r["pipeline"], r["raw_embedding"], r["padding"]
    agree = r["vector_agreement"]
    emb = r["config"]["embedding"]
    console.print(
        figure_table(
            f"1. Ingest: {r['config']['archive']} ({r['records']['proposals']} proposals, "
            f"{p['embedded_chunks']} chunks), {emb['model']}, batch {emb['batch_size']}",
            [
                ("pipeline (sync_index)", f"{p['seconds']} s  ->  {p['chunks_per_s']} chunks/s"),
                ("raw embedder.embed()", f"{raw['seconds']} s  ->  {raw['chunks_per_s']} chunks/s"),
                (
                    "  raw half before / after pipeline",
                    f"{raw['before_pipeline_chunks_per_s']} / "
                    f"{raw['after_pipeline_chunks_per_s']} chunks/s",
                ),
                ("pipeline / raw (wall)", f"[bold]{r['pipeline_over_raw']}[/]"),
                ("pipeline / raw (CPU time)", str(r["pipeline_over_raw_cpu"])),
                (
                    "pipeline / raw, same padding (est.)",
                    str(pad["pipeline_over_raw_padding_adjusted"]),
                ),
                (
                    "padded tokens pipeline / raw",
                    f"{pad['pipeline_padded_tokens']:,} / {pad['raw_padded_tokens']:,}",
                ),
                (
                    "tokens: real / if sorted by tokens",
                    f"{pad['real_tokens']:,} / {pad['token_sorted_padded_tokens']:,}",
                ),
                (
                    "padded tokens, pipeline before (char-sorted calls)",
                    f"{pad['before_pipeline_padded_tokens']:,}",
                ),
                (
                    "stored vs raw vectors, min / mean cosine",
                    f"{agree['min_cosine']} / {agree['mean_cosine']}",
                ),
                ("record ingest (in neither)", f"{r['records']['seconds']} s"),
                ("chunking alone (rebuild)", f"{raw['rebuild_chunks_s']} s"),
                ("model load (excluded)", f"{r['warm_up']['model_load_s']} s"),
                ("load avg around pipeline", f"{p['loadavg_before']} -> {p['loadavg_after']}"),
            ],
        )
    )
    render_standin(console, r["standin_pipeline"])
    ri, cli = r["reingest"], r["reingest_cli"]
    console.print(
        figure_table(
            "2. Re-ingest, nothing changed",
            [
                ("in process: total", f"{ri['seconds']} s"),
                ("  of which Chroma open", f"{ri['chroma_open_s']} s"),
                ("  embeddings computed", str(ri["embeddings_computed"])),
                ("  model loaded", str(ri["model_loaded"])),
                ("cold `steward ingest` process", f"{cli['seconds']} s"),
                ("  embeddings computed", str(cli["embeddings_computed"])),
                ("  heavy modules imported", ", ".join(cli["heavy_modules_imported"]) or "none"),
            ],
        )
    )
    render_search(console, r["search"])
    h = r["cli_help"]
    it = h["import_time"]
    slow = ", ".join(f"{x['module']} {x['ms']} ms" for x in it["slowest_packages"][:4])
    console.print(
        figure_table(
            "4. steward --help",
            [
                (f"wall, median of {h['runs']}", f"{h['median_ms']} ms"),
                ("wall, min", f"{h['min_ms']} ms"),
                ("heavy modules imported", ", ".join(h["heavy_modules_imported"]) or "none"),
                ("import agent.cli.main", f"{it['agent_cli_main_ms']} ms"),
                ("  slowest packages", slow),
            ],
        )
    )
    m = r["machine"]
    console.print(
        f"machine: {m['cpu_count']} CPUs, Python {m['python']}, torch {m['torch']} "
        f"({m['torch_threads']} threads), chromadb {m['chromadb']}; {m['date']}; "
        f"total {r['total_seconds']} s",
        highlight=False,
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    parser.add_argument(
        "--search-chunks", type=int, default=100_000, help="size of the synthetic search index"
    )
    parser.add_argument("--quick", action="store_true", help="20,000 search chunks")
    parser.add_argument(
        "--keep-home", action="store_true", help="keep the temporary STEWARD_HOME afterwards"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.search_chunks = 20_000
    if args.search_chunks < INSERT_BATCH:
        parser.error(f"--search-chunks must be at least {INSERT_BATCH}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console()
    results = run_in_fresh_home("steward-bench-", args, run, checks, console)
    render(console, results)
    console.print(f"results: {args.out}")
    busy = results["contention"]
    if busy["suspected"]:
        console.print(
            f"[bold yellow]warning:[/] other work was running (raw drift {busy['raw_drift']}, "
            f"load {busy['peak_loadavg_1min']}): trust the CPU-time ratio over the wall-clock "
            "one, or re-run on a quiet machine"
        )
    return report_failed_checks(console, results)


if __name__ == "__main__":
    sys.exit(main())
