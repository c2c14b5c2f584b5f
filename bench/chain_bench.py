"""Steward's on-chain Governor ingest benchmark: ChainSource against a local anvil.

Why it measures what it does:

- A Governor is read from its logs (eth_getLogs over block windows) plus
  per-proposal reads (state, tally, quorum) and block timestamps. Which of
  these dominates decides how an ingest scales, so every request is counted by
  JSON-RPC method and by the call ChainSource made, with the time spent in it.
- Hosted providers cap eth_getLogs ranges (2,000 blocks is Alchemy-like, 500
  is tighter). Steward starts wide (max_block_range 10,000) and halves its
  window on refusals, so the same ingest is run direct, behind a 2,000-block
  cap and behind a 500-block cap (tests/fakes/capped_rpc.py), each into a
  fresh SQLite store. The proxy runs in this process, so an uncapped run
  through it is the baseline the capped runs compare with.
- A second run with nothing new on the chain should cost almost nothing; its
  time and requests are measured too.
- cProfile of one more direct ingest shows where the time goes, and one
  experiment (web3's "validation" middleware removed, in this script only)
  measures what its extra eth_chainId requests cost.

The chain is a fresh anvil on 127.0.0.1 with the OpenZeppelin governor set
(tests/chain), padded with empty blocks, and loaded in bulk: N proposals
voted on by M delegates each, some of the succeeded ones queued and executed,
a few canceled. Vector indexing is not part of this benchmark.

    .venv/bin/python bench/chain_bench.py [--proposals 1000] [--votes 5] [--blocks 5000]
        [--out bench/results/chain_ingest.json] [--keep-home]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import web3
from bench_common import Json, report_failed_checks, run_in_fresh_home, say
from rich.console import Console

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))  # for tests.chain: anvil, the governor set, bulk txs
# The parts (chain_*.py) import tests.chain too: they come after the path is set.

from chain_common import CANCEL_SHARE, CONFIGS, DEFAULT_OUT, MAX_BLOCK_RANGE  # noqa: E402
from chain_measure import bench_config, experiment_without_validation  # noqa: E402
from chain_profile import profile_ingest  # noqa: E402
from chain_report import render  # noqa: E402
from chain_setup import Chain, populate  # noqa: E402

from tests.chain.anvil import anvil_binary, launch_anvil  # noqa: E402


# ---- the run ----------------------------------------------------------------------
def _anvil_version() -> str:
    try:
        out = subprocess.run(
            [str(anvil_binary()), "--version"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.splitlines()[0] if out else "unknown"


def machine_facts() -> Json:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "web3": web3.__version__,
        "anvil": _anvil_version(),
    }


def derived(chain: Chain, results: Json) -> Json:
    """Figures behind the profile findings, from the direct runs (unprofiled)."""
    direct = results["configs"]["direct"]
    full = direct["full"]
    calls = full["requests"]["by_call"]
    methods = full["requests"]["by_method"]
    proposals = len(chain.proposals)
    total = full["requests"]["total"]

    def n(name: str) -> int:
        return int(calls.get(name, {}).get("n", 0))

    reads = ("state", "proposalVotes", "quorum")
    read_calls = sum(n(name) for name in reads)
    read_seconds = sum(calls.get(name, {}).get("seconds", 0.0) for name in reads)
    # _refresh re-reads every proposal this run touched, the new ones included, at the same
    # block _proposal read them at: the profile's callers say how many of the reads those are.
    callers = results["profile"]["callers"]
    rereads = callers["GovernorReader.state"].get("source.py:_refresh", 0) + 2 * callers[
        "_GovernorSync._with_tally (tally + quorum)"
    ].get("source.py:_updated", 0)
    per_read = read_seconds / read_calls if read_calls else 0.0
    incremental = direct["incremental"]
    non_final = sum(1 for s in chain.proposals.values() if s in ("succeeded", "queued"))
    experiment = results["experiment_no_validation_middleware"]["full"]
    return {
        "requests_per_proposal": round(total / proposals, 2),
        "by_call_per_proposal": {
            name: round(n(name) / proposals, 2) for name in (*reads, "eth_getBlockByNumber")
        },
        "contract_reads": read_calls,
        "contract_reads_seconds": round(read_seconds, 3),
        "contract_reads_share_of_wall": round(read_seconds / full["wall_s"], 3),
        "eth_chainId_share_of_requests": round(methods.get("eth_chainId", 0) / total, 3),
        "get_logs_share_of_requests": round(n("eth_getLogs") / total, 4),
        "get_block_share_of_requests": round(n("eth_getBlockByNumber") / total, 4),
        "refresh_rereads_of_new_proposals": rereads,
        "refresh_rereads_est_seconds": round(rereads * per_read, 2),
        "refresh_rereads_est_requests": rereads * 3,
        "non_final_proposals": non_final,
        "incremental_requests_per_non_final_proposal": round(
            incremental["requests"]["total"] / max(1, non_final), 2
        ),
        "without_validation_middleware": {
            "requests": experiment["requests"]["total"],
            "wall_s": experiment["wall_s"],
            "requests_saved": total - experiment["requests"]["total"],
            "wall_saved_share": round(1 - experiment["wall_s"] / full["wall_s"], 3),
        },
    }


def run(args: argparse.Namespace, home: Path, results: Json, console: Console) -> None:
    results["config"] = {
        "proposals": args.proposals,
        "votes_per_proposal": args.votes,
        "min_height": args.blocks,
        "max_block_range": MAX_BLOCK_RANGE,
        "confirmations": 0,
        "pacing": "none (the app's default is requests_per_second 20)",
    }
    results["machine"] = machine_facts()
    with ExitStack() as stack:
        say(console, "starting anvil on 127.0.0.1")
        node = launch_anvil(accounts=max(10, args.votes + 2), log_path=home / "anvil.log")
        stack.callback(node.stop)
        chain = populate(node, args, console)
        results["chain"] = chain.facts
        say(
            console,
            f"chain ready in {chain.facts['seconds']} s: {chain.facts['blocks_to_scan']:,} blocks, "
            f"{len(chain.proposals):,} proposals, {len(chain.votes):,} votes, "
            f"{sum(chain.lifecycle.values())} lifecycle events",
        )
        results["configs"] = {c.name: bench_config(chain, c, home, console) for c in CONFIGS}
        say(console, "cProfile of one more direct ingest")
        results["profile"] = profile_ingest(chain, home)
        results["experiment_no_validation_middleware"] = experiment_without_validation(
            chain, home, console
        )
        results["derived"] = derived(chain, results)


def checks(results: Json) -> dict[str, bool]:
    out: dict[str, bool] = {
        "experiment: every proposal and vote is in the store": results[
            "experiment_no_validation_middleware"
        ]["store_ok"]
    }
    for name, r in results["configs"].items():
        out[f"{name}: every proposal and vote is in the store, in the chain's state"] = r["store"][
            "ok"
        ]
        out[f"{name}: every event log was read once"] = r["all_events_read"] and r["counts_match"]
        out[f"{name}: the incremental run ingests nothing new"] = r["incremental"]["nothing_new"]
        if "proxy_count_agrees" in r["full"]:
            out[f"{name}: client and proxy request counts agree"] = r["full"]["proxy_count_agrees"]
        if r["cap"] is not None:
            # Halving from 10,000 to under the cap: at most ceil(log2(10000 / cap)) refusals.
            most = (MAX_BLOCK_RANGE // r["cap"] - 1).bit_length()
            out[f"{name}: at most {most} range refusals"] = r["full"]["range_refusals"] <= most
    return out


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--proposals", type=int, default=1000, help="bulk proposals")
    parser.add_argument("--votes", type=int, default=5, help="votes per proposal (voters)")
    parser.add_argument(
        "--blocks", type=int, default=5000, help="pad the chain with empty blocks to this height"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    parser.add_argument(
        "--keep-home", action="store_true", help="keep the temporary home (stores, anvil.log)"
    )
    args = parser.parse_args(argv)
    if args.proposals < CANCEL_SHARE // 10 or args.votes < 1:
        parser.error("need --proposals >= 10 and --votes >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console()
    results = run_in_fresh_home("steward-chain-bench-", args, run, checks, console)
    render(console, results)
    console.print(f"results: {args.out}")
    return report_failed_checks(console, results)


if __name__ == "__main__":
    sys.exit(main())
