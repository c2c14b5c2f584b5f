"""Fork simulation benchmark: what `steward simulate` and the automatic path cost.

- Per proposal, the three phases a report records: starting `anvil --fork-url` (until it
  answers), executing (governor path: votes, queue, timelock wait, execute), and reading the
  report (call and diff-mode prestate traces, receipts, balances, EIP-1967 slots, token
  symbols). A 1-action and a 50-action proposal, each simulated `--repeat` times (median).
- The added cost to an ingest run: a chain with `--open` open proposals is ingested into a
  fresh store, then `SimulationService.run_due` simulates them (what `simulate: true` adds).

The "mainnet" is an anvil on 127.0.0.1 with the project's OpenZeppelin governor set; the
fork reads it over HTTP, as it would a hosted provider (without the network latency, which
on a real provider dominates the fork phase: every state slot touched is fetched once).

    .venv/bin/python bench/simulate_bench.py [--repeat 3] [--open 10]
        [--out bench/results/simulate.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from web3 import Web3  # noqa: E402

from agent.decode.models import RawAction  # noqa: E402
from agent.ingest import ingest  # noqa: E402
from agent.records.simulation import SimulationRequest  # noqa: E402
from agent.settings import ChainSettings  # noqa: E402
from agent.simulate.service import MAX_PER_RUN, SimulationService  # noqa: E402
from agent.store import RecordStore  # noqa: E402
from connectors.chain.rpc import ChainRpc  # noqa: E402
from connectors.chain.simulator import ForkSimulator  # noqa: E402
from connectors.chain.source import ChainSource  # noqa: E402
from tests.chain.actions import Action, grant_spender, transfer_token  # noqa: E402
from tests.chain.anvil import start_anvil  # noqa: E402
from tests.chain.deploy import OzDeployment, deploy_oz  # noqa: E402
from tests.chain.scenario import propose  # noqa: E402


def _actions(dep: OzDeployment, n: int, salt: int) -> list[Action]:
    out: list[Action] = []
    for i in range(n):
        to = Web3.to_checksum_address(f"0x{salt:04x}{i:036x}")
        if i % 5 == 4:
            out.append(grant_spender(dep.assets.treasury, to))
        else:
            out.append(transfer_token(dep.assets.usdc, to, (i + 1) * 10**6, symbol="USDC"))
    return out


def _request(dep: OzDeployment, actions: list[Action], text: str) -> SimulationRequest:
    pid = propose(dep, actions, text)
    return SimulationRequest(
        uid=f"bench:{pid}",
        content_hash="0" * 64,
        chain="bench",
        chain_id=31337,
        governor=dep.governor.address,
        governor_kind="oz",
        proposal_id=pid,
        actions=[RawAction(target=a.target, value=a.value, calldata=a.calldata) for a in actions],
        description=text,
        holders=list(dep.voters),
    )


def _phases(url: str, req: SimulationRequest, repeat: int) -> dict[str, Any]:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        report = ForkSimulator(url).simulate(req)
        total = time.perf_counter() - started
        if not report.simulated:
            raise SystemExit(f"not simulated: {report.why}")
        runs.append({**report.timings, "total_s": total, "gas": report.gas_used})
    median = {k: round(statistics.median(r[k] for r in runs), 3) for k in runs[0] if k != "gas"}
    return {
        "actions": len(req.actions),
        "runs": len(runs),
        "median": median,
        "gas_used": runs[0]["gas"],
        "method": report.method,
    }


def _ingest_cost(url: str, dep: OzDeployment, n_open: int) -> dict[str, Any]:
    for i in range(n_open):
        propose(dep, _actions(dep, 2, 0x9000 + i), f"# Open proposal {i}")
    chain = ChainSettings(
        name="bench",
        rpc_url=url,
        chain_id=31337,
        confirmations=0,
        simulate=True,
        governors=[{"name": "g", "address": dep.governor.address, "start_block": dep.start_block}],
    )
    with tempfile.TemporaryDirectory() as home:
        store = RecordStore(f"sqlite:///{Path(home) / 'b.db'}")
        started = time.perf_counter()
        ingest(ChainSource(ChainRpc.connect(url, label="bench"), chain), store)
        ingest_s = time.perf_counter() - started
        service = SimulationService(store, [chain], lambda c: ForkSimulator(c.url()))
        started = time.perf_counter()
        reports = service.run_due()
        simulate_s = time.perf_counter() - started
        started = time.perf_counter()
        again = service.run_due()
        idle_s = time.perf_counter() - started
        open_now = sum(p.is_open for p in store.proposals(source="chain"))
        store.close()
    return {
        "open_proposals": open_now,
        "max_per_run": MAX_PER_RUN,
        "first_run_simulated": sum(r.simulated for r in reports),
        "ingest_s": round(ingest_s, 3),
        "simulate_due_s": round(simulate_s, 3),
        "per_proposal_s": round(simulate_s / max(len(reports), 1), 3),
        "added_per_ingest_vs_ingest": round(simulate_s / max(ingest_s, 1e-9), 1),
        "second_run_simulated": len(again),
        "note": "the second run takes what the per-run cap left, then nothing is due",
        "second_run_s": round(idle_s, 4),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--open", type=int, default=10)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "simulate.json")
    args = parser.parse_args()
    with start_anvil() as node:
        dep = deploy_oz(node.web3())
        small = _phases(node.url, _request(dep, _actions(dep, 1, 1), "# small"), args.repeat)
        large = _phases(node.url, _request(dep, _actions(dep, 50, 2), "# fifty"), args.repeat)
        ingest_cost = _ingest_cost(node.url, dep, args.open)
    import os

    results = {
        "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "loadavg": list(os.getloadavg()),
        "small": small,
        "fifty_actions": large,
        "ingest": ingest_cost,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
