"""Steward's analysis benchmark: offline-analyst speed and quality, and digest speed.

Why it measures what it does:

- Analysis time per proposal decides how long `steward analyze` takes on a
  fresh space and whether a digest can be analysed on a schedule. It is
  timed through `agent.analysis.service.analyse`, the path the CLI takes, on
  all 129 ENS proposals against the ENS-constitution policy, with the model
  loaded before the clock starts. Each step `analyse` calls (cache lookup,
  injection detection, fact extraction, hard rules, the analyst's draft and
  the embedding inside it, finalise, save) is wrapped where the service looks
  it up, so the breakdown times the real code and not a re-implementation.
- A re-run with nothing changed must reuse every assessment: milliseconds per
  proposal and no embedding at all. That is checked (exit 1 if not).
- The digest is built and rendered on every scheduled post: 50 analysed
  proposals with timestamps around a fixed `now` (new, closing within 48 h,
  ended) are timed over 20 repetitions, build and each renderer separately.
- Speed without quality means nothing, so the run ends with a quality report
  on the same ENS assessments: what the extractive summary keeps of the
  amounts, addresses and names, whether evidence quotes are verbatim and how
  often each principle fires, how recommendations line up with the published
  outcomes, injection false positives over ~2,000 real DAO proposals and
  recall over a hostile set written here, and the category spread.

Everything runs in a fresh temporary STEWARD_HOME; STEWARD_CONFIG and
STEWARD__* variables are dropped so no user setting can point it elsewhere.

    .venv/bin/python bench/analysis_bench.py [--out bench/results/analysis.json]
        [--limit N] [--keep-home]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from analysis_common import (
    ARCHIVE,
    DEFAULT_OUT,
    DIGEST_PROPOSALS,
    DIGEST_REPEATS,
    POLICY_FILE,
    PROJECT_ROOT,
    SEED,
)
from analysis_digest import bench_digest
from analysis_injection import MemoEmbedder
from analysis_quality import bench_quality, weaknesses
from analysis_report import render_report
from analysis_speed import bench_analysis, load_ens, thread_diagnostic, warm_up
from bench_common import (
    Json,
    machine_facts,
    report_failed_checks,
    run_in_fresh_home,
    say,
    timed,
)
from rich.console import Console

from agent.analysis.offline import OfflineAnalyst
from agent.analysis.policy import load_policy
from agent.store import RecordStore
from connectors.embeddings import SentenceTransformerEmbedder


# ---- the run --------------------------------------------------------------------
def checks(results: Json) -> dict[str, bool]:
    """What must hold for the run to pass (exit 0)."""
    q = results["quality"]
    return {
        "cached re-run analyses nothing and embeds nothing": results["analysis"]["cached"]["ok"],
        "offline analyst drops no finding": q["evidence"]["dropped_findings"] == 0,
        "every hostile proposal whose findings cap ends at ABSTAIN": q["injection"]["hostile"][
            "ok"
        ],
    }


@contextmanager
def phase(results: Json, name: str, console: Console, message: str) -> Iterator[None]:
    """Announce a part of the run and record its wall time under results["phases"]."""
    say(console, message)
    with timed() as t:
        yield
    results.setdefault("phases_s", {})[name] = round(t.wall, 1)


def run(args: argparse.Namespace, home: Path, results: Json, console: Console) -> None:
    """All measurements, in an order where the model is loaded once."""
    say(console, f"STEWARD_HOME={home}")
    store = RecordStore(f"sqlite:///{home / 'steward.db'}")
    policy = load_policy(POLICY_FILE)
    embedder = SentenceTransformerEmbedder()
    with phase(results, "ingest and model load", console, "ingest, then load the model"):
        proposals, results["records"] = load_ens(store, args.limit)
        results["warm_up"] = warm_up(embedder)
    with phase(results, "analysis", console, f"analysing {len(proposals)} ENS proposals"):
        results["analysis"], assessments = bench_analysis(proposals, policy, embedder, store)
    pairs = list(zip(proposals, assessments, strict=True))
    with phase(results, "threads diagnostic", console, "embedding: default vs 1 torch thread"):
        results["embedding_threads"] = thread_diagnostic(embedder, proposals)
    with phase(results, "digest", console, f"digest: {DIGEST_PROPOSALS} x {DIGEST_REPEATS}"):
        results["digest"] = bench_digest(home, pairs, policy)
    with phase(results, "quality", console, "quality report, hostile set through analyse"):
        analyst = OfflineAnalyst(MemoEmbedder(embedder))
        results["quality"] = bench_quality(pairs, policy, analyst, store)
    results["weaknesses"] = weaknesses(results["quality"])
    store.close()
    results["machine"] = machine_facts()
    results["config"] = {
        "archive": str(ARCHIVE.relative_to(PROJECT_ROOT)),
        "policy": str(POLICY_FILE.relative_to(PROJECT_ROOT)),
        "policy_hash": policy.hash,
        "embedding_model": embedder.model_name,
        "limit": args.limit,
        "seed": SEED,
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    parser.add_argument(
        "--limit", type=int, default=None, help="analyse only the first N ENS proposals"
    )
    parser.add_argument("--keep-home", action="store_true", help="keep the temporary STEWARD_HOME")
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console()
    results = run_in_fresh_home("steward-analysis-bench-", args, run, checks, console)
    render_report(console, results)
    console.print(f"results: {args.out}")
    return report_failed_checks(console, results)


if __name__ == "__main__":
    sys.exit(main())
