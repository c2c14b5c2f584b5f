"""Who decides: how long delegate records and concentration figures take, and what the
sybil-like signals find in real votes.

Why it measures what it does:

- `steward delegate` reads one address's votes and the proposals they were cast on;
  `show`, `/proposal` and the digest compute concentration per proposal from its stored
  votes. Both read SQLite and do one pass in Python, so time grows with the votes read:
  measured on a space of 100 proposals x 200 votes (20,000 votes, 2,000 voters with
  Pareto-distributed power, as real token holdings are) and on one proposal with 10,000
  votes — cold (computed) and warm (the cache keyed by the proposal's vote count and
  newest vote, as a digest or the bot sees it the second time).
- The signals (fresh-address bursts, near-equal power clusters, identical records) are
  run on the real Aave and Uniswap votes in ../shared/data/governor-votes.jsonl, imported
  as `steward ingest --from-file` imports them, with the default thresholds from
  config/default.yaml; what they find is reported, with the concentration figures of
  those proposals. Skipped when the file is absent.

    .venv/bin/python bench/who_decides_bench.py [--out bench/results/who_decides.json]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.models import Proposal, Vote, utc
from agent.settings import load_settings
from agent.store import RecordStore
from agent.voters.service import VoterFigures

_REPO = Path(__file__).resolve().parents[1]
DATA_DIRS = (_REPO.parent / "shared" / "data", Path("/work/shared/data"))
CHOICES = ["For", "Against", "Abstain"]
SUPPORT = {"for": 1, "against": 2, "abstain": 3}
T0 = 1_700_000_000


class Timed(NamedTuple):
    wall: float
    cpu: float
    """This process's CPU seconds: steadier than wall time on a shared, loaded machine."""
    result: Any


def best_of(fn: Callable[[], Any], runs: int = 5) -> Timed:
    """Median wall and CPU seconds of `runs` calls, and the last result."""
    walls, cpus, result = [], [], None
    for _ in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return Timed(statistics.median(walls), statistics.median(cpus), result)


def both(out: dict[str, Any], key: str, timed: Timed, digits: int = 4) -> Any:
    """`key_s` (wall) and `key_cpu_s` into `out`; returns the result."""
    out[f"{key}_s"] = round(timed.wall, digits)
    out[f"{key}_cpu_s"] = round(timed.cpu, digits)
    return timed.result


def synthetic_space(store: RecordStore, space: str, proposals: int, votes: int, voters: int) -> str:
    """`proposals` closed proposals with `votes` votes each; returns the busiest voter."""
    rng = random.Random(42)
    people = [f"0x{rng.getrandbits(160):040x}" for _ in range(voters)]
    power = {v: rng.paretovariate(1.2) * 100 for v in people}
    busiest = people[0]
    for n in range(proposals):
        p = Proposal(
            source="snapshot",
            space=space,
            id=f"{space}-{n}",
            title=f"Proposal {n}",
            choices=CHOICES,
            state="closed",
            created=utc(T0 + n * 86400),
            end=utc(T0 + n * 86400 + 5 * 86400),
            scores=[2.0, 1.0, 0.0],
        )
        store.apply_proposals([p])
        chosen = [busiest, *rng.sample(people[1:], votes - 1)]
        store.apply_votes(
            [
                Vote(
                    source="snapshot",
                    id=f"{p.id}-{i}",
                    proposal_uid=p.uid,
                    space=space,
                    voter=v,
                    choice=rng.choices([1, 2, 3], weights=[70, 20, 10])[0],
                    voting_power=power[v] * rng.uniform(0.9, 1.1),
                    created=utc(T0 + n * 86400 + rng.randint(0, 4 * 86400)),
                )
                for i, v in enumerate(chosen)
            ]
        )
    return busiest


def measure_synthetic(store: RecordStore, figures: VoterFigures) -> dict[str, Any]:
    out: dict[str, Any] = {}
    busiest = synthetic_space(store, "bench.eth", 100, 200, 2000)
    ps = store.proposals(space="bench.eth")
    out["space"] = {"proposals": len(ps), "votes": sum(store.vote_count(p.uid) for p in ps)}
    record = both(out, "record", best_of(lambda: figures.record(busiest, "bench.eth")))
    out["record_votes"] = record.votes_cast

    def cold() -> list[Any]:
        figures._cache.clear()
        return [figures.concentration(p) for p in ps]

    both(out, "concentration_100_proposals_cold", best_of(cold))
    both(
        out,
        "concentration_100_proposals_warm",
        best_of(lambda: [figures.concentration(p) for p in ps]),
    )

    def cold_signals() -> list[Any]:
        figures._signals.clear()
        return figures.signals("bench.eth")

    both(out, "signals_space_cold", best_of(cold_signals, 3))
    both(out, "signals_space_warm", best_of(lambda: figures.signals("bench.eth"), 3))

    out["cli_delegate_s"] = round(_cli(store, ["delegate", busiest, "--json"]), 3)
    out["cli_show_s"] = round(_cli(store, ["show", ps[-1].uid, "--json"]), 3)

    synthetic_space(store, "big.eth", 1, 10_000, 10_000)
    [big] = store.proposals(space="big.eth")
    out["one_proposal_votes"] = store.vote_count(big.uid)

    def cold_one() -> Any:
        figures._cache.clear()
        return figures.concentration(big)

    c = both(out, "concentration_10k_votes_cold", best_of(cold_one))
    both(out, "concentration_10k_votes_warm", best_of(lambda: figures.concentration(big)), 5)
    out["concentration_10k_votes"] = c.model_dump(mode="json")
    return out


def _cli(store: RecordStore, args: list[str]) -> float:
    """Median wall seconds of `steward ARGS` as a person runs it (start-up included)."""
    import os
    import subprocess

    env = {**os.environ, "STEWARD__DATABASE__URL": store.url, "PYTHONPATH": str(_REPO)}
    steward = [sys.executable, "-m", "agent.cli.main", *args]

    def run() -> None:
        subprocess.run(steward, env=env, check=True, capture_output=True, cwd=_REPO)

    return best_of(run, 3).wall


def load_real(store: RecordStore, data: Path) -> list[str]:
    """The real Governor archives, through `steward ingest --from-file`'s own source."""
    from agent.ingest import ingest
    from connectors.archive import ArchiveSource

    files = [data / "governor-proposals.jsonl", data / "governor-votes.jsonl"]
    counts = ingest(ArchiveSource(files), store)
    print(f"ingested {counts.new} proposals and {counts.votes} votes", flush=True)
    voted = {v for p in store.proposals() if store.vote_count(p.uid) for v in [p.space]}
    return sorted(voted)


def measure_real(store: RecordStore, figures: VoterFigures, data: Path) -> dict[str, Any]:
    spaces = load_real(store, data)
    out: dict[str, Any] = {}
    for space in spaces:
        ps = store.proposals(space=space)
        conc = [figures.concentration(p) for p in ps]
        secs, _cpu, found = best_of(lambda s=space: figures.signals(s), 1)
        voters = Counter(f.voter for p in ps for f in store.vote_facts(p.uid))
        top_voter = voters.most_common(1)[0][0]
        rec_s, _cpu, record = best_of(lambda s=space, v=top_voter: figures.record(v, s), 3)
        nak = [c.nakamoto for c in conc if c.nakamoto is not None]
        out[space] = {
            "proposals": len(ps),
            "votes": sum(c.voters for c in conc),
            "voters": len(voters),
            "nakamoto_median": statistics.median(nak) if nak else None,
            "proposals_nakamoto_1": sum(1 for n in nak if n == 1),
            "proposals_nakamoto_le_3": sum(1 for n in nak if n <= 3),
            "proposals_flip_without_top_voter": sum(1 for c in conc if c.flips_without_top_voter),
            "gini_median": round(statistics.median(c.gini for c in conc if c.gini is not None), 3),
            "signals_s": round(secs, 3),
            "signals": dict(Counter(s.kind for s in found)),
            "signal_examples": [
                {
                    "kind": s.kind,
                    "text": s.text,
                    "proposals": s.proposal_uids[:3],
                    "count": s.count,
                    "power_share": s.power_share,
                    "window": [s.window_start, s.window_end],
                }
                for s in _examples(found)
            ],
            "busiest_voter": {
                "address": top_voter,
                "votes": record.votes_cast,
                "participation": [p.model_dump() for p in record.participation],
                "with_outcomes": (
                    record.with_outcomes.model_dump() if record.with_outcomes else None
                ),
                "record_s": round(rec_s, 4),
            },
        }
    return out


def _examples(found: list[Any]) -> list[Any]:
    """Per kind: the signal carrying the most power, and the one with the most addresses."""
    picked: list[Any] = []
    for kind in sorted({s.kind for s in found}):
        mine = [s for s in found if s.kind == kind]
        for best in (
            max(mine, key=lambda s: s.power_share or 0.0),
            max(mine, key=lambda s: s.count),
        ):
            if best not in picked:
                picked.append(best)
    return picked


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench/results/who_decides.json"))
    parser.add_argument("--data", type=Path, help="Folder with governor-votes.jsonl.")
    args = parser.parse_args()
    settings = load_settings(None)
    results: dict[str, Any] = {"date": datetime.now(UTC).isoformat(timespec="seconds")}
    with tempfile.TemporaryDirectory(prefix="who-decides-") as tmp:
        store = RecordStore(f"sqlite:///{tmp}/bench.db")
        figures = VoterFigures(store, settings.voters)
        results["synthetic"] = measure_synthetic(store, figures)
        print(json.dumps(results["synthetic"], indent=1, default=str)[:1500])
        data = args.data or next((d for d in DATA_DIRS if d.exists()), None)
        if data and (data / "governor-votes.jsonl").exists():
            real_store = RecordStore(f"sqlite:///{tmp}/real.db")
            real = VoterFigures(real_store, settings.voters)
            results["real_governor_votes"] = measure_real(real_store, real, data)
            real_store.close()
        else:
            results["real_governor_votes"] = "skipped: no governor-votes.jsonl found"
        store.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    print(json.dumps(results.get("real_governor_votes"), indent=1, default=str)[:6000])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
