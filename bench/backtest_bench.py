"""Backtest benchmark: how often Steward's recommendation matched real delegates' votes.

On the shared Aave and Uniswap Governor archives (`governor-proposals.jsonl`,
`governor-votes.jsonl`), for the 10 addresses with the most votes, every vote is
replayed in time order (`agent.backtest.replay`, the path `steward backtest` takes):
the heuristic analyst, the precedent analyst, and two baselines on the same proposals:
always FOR, and the DAO's final outcome. Reported per address and pooled over all
their votes: coverage, agreement, Cohen's kappa and AGAINST recall (the proposals a
delegate refused), plus seconds per proposal for each analyst. 95 % of these votes are
FOR, so kappa and AGAINST recall are the figures that say anything.

Nothing here is tuned to this data: the analysts run with their shipped constants.
Everything runs in a fresh temporary STEWARD_HOME (proposals indexed with 2 chunks each
to keep the run to minutes).

    .venv/bin/python bench/backtest_bench.py [--data ../shared/data] [--voters 10]
        [--out bench/results/backtest.json] [--keep-home]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_common import Json, report_failed_checks, run_in_fresh_home, say, timed

PROJECT = Path(__file__).resolve().parent.parent
DAOS = ("Aave", "Uniswap")
POLICY = PROJECT / "config" / "policies" / "conservative-treasury.yaml"
METHODS = ("heuristic", "precedent", "always_for", "outcome")


def _subset(data: Path, home: Path) -> tuple[Path, Path]:
    proposals = [
        line
        for line in (data / "governor-proposals.jsonl").read_text().splitlines()
        if line.strip() and json.loads(line).get("dao") in DAOS
    ]
    p = home / "proposals.jsonl"
    p.write_text("\n".join(proposals) + "\n")
    return p, data / "governor-votes.jsonl"


def _figures(m: Any) -> Json:
    return {
        "n": m.n,
        "coverage": m.coverage,
        "agreement": m.agreement,
        "kappa": m.kappa,
        "against_recall": m.per_choice["AGAINST"].recall,
        "against_precision": m.per_choice["AGAINST"].precision,
    }


def run(args: Any, home: Path, results: Json, console: Console) -> None:
    from agent.app import App
    from agent.backtest.metrics import score
    from agent.backtest.replay import backtest
    from agent.indexer import sync_index
    from agent.ingest import ingest
    from agent.settings import load_settings

    os.environ["STEWARD__CHUNKING__MAX_CHUNKS"] = "2"
    application = App(load_settings())
    proposals, votes = _subset(args.data, home)
    with timed() as t:
        counts = ingest(application.archive_source([proposals, votes]), application.store)
        index = sync_index(
            application.store,
            application.index,
            application.embedder_factory,
            application.settings.chunking,
        )
    say(console, f"ingested {counts.new} proposals, {counts.votes} votes in {t.wall:.0f} s")
    results["ingest"] = {"proposals": counts.new, "votes": counts.votes, "seconds": t.wall}
    results["index"] = index.model_dump()
    tally = Counter(
        json.loads(line)["voter"]
        for line in votes.read_text().splitlines()
        if line.strip() and json.loads(line)["dao"] in DAOS
    )
    top = [address for address, _ in tally.most_common(args.voters)]
    policy = application.policy(POLICY)
    application.embedder().embed(["warm up"])
    per_voter: list[Json] = []
    pooled: dict[str, tuple[list[str], list[str]]] = {m: ([], []) for m in METHODS}
    seconds: dict[str, list[float]] = {"heuristic": [], "precedent": []}
    for address in top:
        row: Json = {"voter": address, "votes": tally[address]}
        for kind in ("heuristic", "precedent"):
            analyst = application.analyst(
                kind,
                voter=address,
                as_of=lambda p: p.created,  # type: ignore[arg-type,return-value]
            )
            report = backtest(application.store, voter=address, policy=policy, analyst=analyst)
            row[kind] = _figures(report.steward)
            row[f"{kind}_seconds_per_proposal"] = report.seconds_per_proposal
            seconds[kind].append(report.seconds_per_proposal * report.n)
            actual = [c.actual for c in report.cases]
            pooled[kind][0].extend(actual)
            pooled[kind][1].extend(c.recommendation for c in report.cases)
            if kind == "precedent":
                row["always_for"] = _figures(report.always_for)
                row["outcome"] = _figures(report.outcome)
                pooled["always_for"][0].extend(actual)
                pooled["always_for"][1].extend("FOR" for _ in actual)
                pooled["outcome"][0].extend(actual)
                pooled["outcome"][1].extend(c.outcome or "NONE" for c in report.cases)
                row["n"] = report.n
        say(
            console,
            f"{address[:10]}… n={row['n']}: κ heuristic {row['heuristic']['kappa']}, "
            f"precedent {row['precedent']['kappa']}",
        )
        per_voter.append(row)
    application.close()
    results["policy"] = str(POLICY.relative_to(PROJECT))
    results["per_voter"] = per_voter
    results["pooled"] = {m: _figures(score(*pooled[m])) for m in METHODS}
    n = len(pooled["precedent"][0])
    results["seconds_per_proposal"] = {k: sum(v) / n if n else None for k, v in seconds.items()}
    _print(console, results)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"


def _print(console: Console, results: Json) -> None:
    table = Table("pooled over the top voters", "n", "coverage", "agreement", "κ", "AGAINST recall")
    for method, f in results["pooled"].items():
        kappa = "-" if f["kappa"] is None else f"{f['kappa']:.2f}"
        table.add_row(
            method,
            str(f["n"]),
            _pct(f["coverage"]),
            _pct(f["agreement"]),
            kappa,
            _pct(f["against_recall"]),
        )
    console.print(table)
    s = results["seconds_per_proposal"]
    console.print(
        f"seconds per proposal: heuristic {s['heuristic']:.3f}, precedent {s['precedent']:.3f}"
    )


def checks(results: Json) -> dict[str, bool]:
    pooled = results.get("pooled", {})
    return {
        "every method scored the same proposals": len({f["n"] for f in pooled.values()}) == 1,
        "precedent analyst gave recommendations": (pooled.get("precedent", {}).get("coverage") or 0)
        > 0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=PROJECT.parent / "shared" / "data")
    parser.add_argument("--voters", type=int, default=10)
    parser.add_argument("--out", type=Path, default=PROJECT / "bench" / "results" / "backtest.json")
    parser.add_argument("--keep-home", action="store_true")
    args = parser.parse_args()
    if not (args.data / "governor-votes.jsonl").exists():
        print(f"no governor archives under {args.data}: pass --data", file=sys.stderr)
        return 2
    console = Console()
    results = run_in_fresh_home("steward-backtest-bench-", args, run, checks, console)
    return report_failed_checks(console, results)


if __name__ == "__main__":
    raise SystemExit(main())
