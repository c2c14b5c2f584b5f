"""Retrieval quality: does search put the right proposal first when asked with its summary?

Queries are real human-written one-line summaries (see retrieval_data.py); the
answer is the proposal they summarise, whose indexed body no longer holds them.
Every method runs over the same index in the same run, so the figures sit side
by side: recall@1, recall@5 and mean reciprocal rank (MRR, rank cut at 10),
within the proposal's own space (how Discord's /ask and /proposal search) and
across all spaces.

    .venv/bin/python bench/retrieval_bench.py [--per-dao 100] [--out FILE] [--keep-home]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bench_common import (
    Json,
    machine_facts,
    report_failed_checks,
    run_in_fresh_home,
    say,
    shared_data,
    timed,
)
from retrieval_data import Pair, load_pairs
from rich.console import Console
from rich.table import Table

from agent.app import App
from agent.indexer import sync_index
from agent.search import (
    CANDIDATES,
    SearchHit,
    _dense,
    reciprocal_rank_fusion,
    search,
)
from agent.settings import load_settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA = shared_data()
DEFAULT_OUT = PROJECT_ROOT / "bench" / "results" / "retrieval.json"
SEED = 20261204
RANK_CUT = 10

Method = Callable[[App, str, Sequence[str]], list[SearchHit]]


def dense(app: App, query: str, spaces: Sequence[str]) -> list[SearchHit]:
    """Today's search: the query's embedding against chunk embeddings only."""
    return search(query, app.index, app.embedder(), spaces=spaces, limit=RANK_CUT)


def hybrid(app: App, query: str, spaces: Sequence[str]) -> list[SearchHit]:
    """Steward's search now: dense and BM25 (the record store's full-text index), fused."""
    return search(
        query, app.index, app.embedder(), spaces=spaces, limit=RANK_CUT, text_index=app.store
    )


def _ranked(uids: list[str]) -> list[SearchHit]:
    return [
        SearchHit(
            uid=u,
            title="",
            space="",
            source="",
            state="",
            created=None,
            flagged=False,
            score=0.0,
            passage="",
        )
        for u in uids
    ]


def words_only(app: App, query: str, spaces: Sequence[str]) -> list[SearchHit]:
    """Diagnostic: the full-text (BM25) ranking alone."""
    return _ranked([h.uid for h in app.store.text_search(query, limit=RANK_CUT, spaces=spaces)])


def hybrid_rrf(app: App, query: str, spaces: Sequence[str]) -> list[SearchHit]:
    """Diagnostic: the same two candidate lists fused by reciprocal rank instead of score."""
    vector = app.embedder().embed([query])[0]
    dense_hits = _dense(vector, app.index, CANDIDATES, spaces=spaces)
    words = app.store.text_search(query, limit=CANDIDATES, spaces=spaces)
    fused = reciprocal_rank_fusion([list(dense_hits), [w.uid for w in words]])
    return _ranked(fused[:RANK_CUT])


METHODS: dict[str, Method] = {
    "dense (before)": dense,
    "hybrid (after)": hybrid,
    "diag: BM25 only": words_only,
    "diag: hybrid, RRF": hybrid_rrf,
}


def ranks(app: App, pairs: list[Pair], method: Method, scoped: bool) -> list[int | None]:
    """1-based rank of each pair's proposal in the method's answer (None: not in the top 10)."""
    out: list[int | None] = []
    for pair in pairs:
        spaces = [pair.proposal.space] if scoped else []
        uids = [h.uid for h in method(app, pair.query, spaces)]
        out.append(uids.index(pair.proposal.uid) + 1 if pair.proposal.uid in uids else None)
    return out


def metrics(found: list[int | None]) -> Json:
    n = len(found)
    return {
        "n": n,
        "recall@1": round(sum(r == 1 for r in found) / n, 4),
        "recall@5": round(sum(r is not None and r <= 5 for r in found) / n, 4),
        "mrr": round(sum(1 / r for r in found if r) / n, 4),
    }


def evaluate(app: App, by_dao: dict[str, list[Pair]], method: Method) -> Json:
    """Per-DAO and pooled figures, scoped to the space and across all spaces."""
    out: Json = {}
    for scope, scoped in (("own space", True), ("all spaces", False)):
        pooled: list[int | None] = []
        per: Json = {}
        with timed() as t:
            for dao, pairs in by_dao.items():
                found = ranks(app, pairs, method, scoped)
                per[dao] = metrics(found)
                pooled += found
        out[scope] = {"all": metrics(pooled), "per_dao": per, "seconds": round(t.wall, 1)}
    return out


def build_index(app: App, by_dao: dict[str, list[Pair]]) -> Json:
    proposals = [p.proposal for pairs in by_dao.values() for p in pairs]
    with timed() as t:
        app.store.apply_proposals(proposals)
        counts = sync_index(app.store, app.index, app.embedder_factory, app.settings.chunking)
    return {
        "proposals": len(proposals),
        "chunks": app.index.count(),
        "embedded_chunks": counts.embedded_chunks,
        "seconds": round(t.wall, 1),
    }


def run(args: argparse.Namespace, home: Path, results: Json, console: Console) -> None:
    by_dao = load_pairs(args.data, args.per_dao, SEED)
    results["config"] = {
        "data": str(args.data),
        "per_dao": args.per_dao,
        "seed": SEED,
        "pairs": {dao: len(p) for dao, p in by_dao.items()},
        "rank_cut": RANK_CUT,
    }
    app = App(load_settings())
    say(console, f"indexing {sum(map(len, by_dao.values()))} proposals in {home}")
    results["index"] = build_index(app, by_dao)
    results["goal"] = {"recall@1": 0.85, "recall@5": 0.97, "scope": "own space"}
    results["methods"] = {}
    for name, method in METHODS.items():
        say(console, f"evaluating {name}")
        results["methods"][name] = evaluate(app, by_dao, method)
    app.close()
    results["machine"] = machine_facts()


def checks(results: Json) -> dict[str, bool]:
    return {"every pair was asked": all(n > 0 for n in results["config"]["pairs"].values())}


def render(console: Console, results: Json) -> None:
    for scope in ("own space", "all spaces"):
        table = Table(title=f"Retrieval quality, {scope}", title_justify="left")
        for col in ("method", "dao", "n", "recall@1", "recall@5", "MRR"):
            table.add_column(col, justify="left" if col in ("method", "dao") else "right")
        for name, figures in results["methods"].items():
            rows = {"ALL": figures[scope]["all"], **figures[scope]["per_dao"]}
            for dao, m in rows.items():
                table.add_row(
                    name, dao, str(m["n"]), str(m["recall@1"]), str(m["recall@5"]), str(m["mrr"])
                )
        console.print(table)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--data", type=Path, default=DATA, help="the shared real-data folder")
    parser.add_argument("--per-dao", type=int, default=100, help="pairs sampled per DAO")
    parser.add_argument("--keep-home", action="store_true")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console()
    results = run_in_fresh_home("steward-retrieval-", args, run, checks, console)
    render(console, results)
    console.print(f"results: {args.out}")
    return report_failed_checks(console, results)


if __name__ == "__main__":
    sys.exit(main())
