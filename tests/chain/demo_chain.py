"""A local chain for the demo and the benchmark: anvil + the OpenZeppelin governor set +
proposals, with a config snippet for Steward.

    python -m tests.chain.demo_chain --config-out chain.yaml [--state-dir D]
    python -m tests.chain.demo_chain --config-out chain.yaml --proposals 500 --voters 40

Prints ``ready`` once the chain is populated and the snippet written, then keeps anvil
running until SIGTERM or SIGINT. Without ``--proposals`` it tells the ENS-style story of
demo_story.py; with it, it creates that many proposals, each voted on by ``--voters``
delegates, in bulk. ``--state-dir`` receives anvil.log and chain.json (addresses, proposal
ids, counts, timings).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import yaml
from web3 import Web3

from .anvil import AnvilNode, launch_anvil
from .demo_story import DELEGATE_BALANCES, STORY_PERIOD, bench_load, open_votes, settle_past
from .deploy import OzDeployment, deploy_oz
from .evm import advance_to, mine

CHAIN_NAME = "local-anvil"
GOVERNOR_NAME = "steward-dao"
STORY_DELAY = 2 * 24 * 3600
"""Timelock delay of the story (ENS's is two days)."""
OPEN_VOTES_LEAD_S = 900
"""The open votes start this far behind the wall clock (their blocks must not be future)."""
STORY_HEADSTART = STORY_DELAY + (STORY_PERIOD + 30) * 12 + 600 + OPEN_VOTES_LEAD_S
"""The chain starts this many seconds in the past, so that the decided proposals' votes (12 s
a block) and timelock delay end before now, and the open ones are created at about now."""


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.chain.demo_chain", description=__doc__)
    parser.add_argument("--config-out", type=Path, required=True, help="YAML snippet to write")
    parser.add_argument("--state-dir", type=Path, help="for anvil.log and chain.json")
    parser.add_argument("--port", type=int, help="anvil's port (default: a free one)")
    parser.add_argument("--block-time", type=float, help="anvil interval mining, in seconds")
    parser.add_argument("--proposals", type=int, help="bulk mode: this many proposals")
    parser.add_argument("--voters", type=int, default=10, help="bulk mode: voters per proposal")
    return parser.parse_args(argv)


def contracts_config(dep: OzDeployment) -> list[dict[str, Any]]:
    """The contracts Steward should name when a proposal calls them."""
    a = dep.assets
    return [
        {"address": a.usdc.address, "name": "USD Coin", "kind": "token", "symbol": "USDC",
         "decimals": 6},
        {"address": dep.token.address, "name": "Steward Token", "kind": "token",
         "symbol": "STEW", "decimals": 18},
        {"address": dep.timelock.address, "name": "DAO Timelock", "kind": "timelock"},
        {"address": dep.governor.address, "name": "Steward Governor", "kind": "governor"},
        {"address": a.treasury.address, "name": "DAO Treasury", "kind": "treasury"},
        {"address": a.box.address, "name": "Registry Box (proxy)", "kind": "proxy"},
        {"address": a.box_v2.address, "name": "Registry Box V2 implementation", "kind": "other"},
    ]  # fmt: skip


def chain_config(node: AnvilNode, dep: OzDeployment, block_time: float | None) -> dict[str, Any]:
    """Steward's ``chains:`` section for this node (agent/settings.py's ChainSettings)."""
    chain: dict[str, Any] = {
        "name": CHAIN_NAME,
        "rpc_url": node.url,
        "chain_id": node.chain_id,
        "confirmations": 0,
        "governors": [
            {
                "name": GOVERNOR_NAME,
                "address": dep.governor.address,
                "kind": "oz",
                "start_block": dep.start_block,
            }
        ],
        "contracts": contracts_config(dep),
        "simulate": True,  # open proposals are simulated on a fork after each ingest
    }
    if block_time:
        chain["block_time_s"] = block_time
    return {"chains": [chain]}


def _bench_period(opts: argparse.Namespace) -> int:
    """Long enough for every bulk vote to land (≈ 200 votes a block) with room to spare."""
    return 100 + opts.proposals * opts.voters // 100 + opts.proposals // 10


def populate(node: AnvilNode, opts: argparse.Namespace) -> dict[str, Any]:
    """Deploy and create the proposals; returns the chain.json record."""
    w3 = node.web3()
    accounts = [Web3.to_checksum_address(a) for a in w3.eth.accounts]
    started = time.monotonic()
    dep = deploy_oz(
        w3,
        voters=accounts[1:6],
        balances=[b * 10**18 for b in DELEGATE_BALANCES],
        voting_period=STORY_PERIOD if opts.proposals is None else _bench_period(opts),
        timelock_delay=STORY_DELAY if opts.proposals is None else 60,
    )
    record: dict[str, Any] = {"addresses": dep.addresses(), "start_block": dep.start_block}
    if opts.proposals is None:
        past = settle_past(dep)
        # Just behind the wall clock before the open votes: the blocks they mine (12 s apart)
        # must not end up in the future, or a vote would not have started yet by real time.
        advance_to(w3, int(time.time()) - OPEN_VOTES_LEAD_S)
        record["proposals"] = [asdict(p) for p in [*past, *open_votes(dep)]]
    else:
        voters = accounts[1 : 1 + opts.voters]
        record["bench"] = bench_load(dep, node.url, proposals=opts.proposals, voters=voters)
        mine(w3, 1)
    record["head"] = w3.eth.block_number
    record["seconds"] = round(time.monotonic() - started, 2)
    _write_yaml(opts.config_out, chain_config(node, dep, opts.block_time))
    return record


def _write_yaml(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def start_node(opts: argparse.Namespace) -> AnvilNode:
    log_path = None
    if opts.state_dir:
        opts.state_dir.mkdir(parents=True, exist_ok=True)
        log_path = opts.state_dir / "anvil.log"
    extra = []
    if opts.proposals is None:
        extra = ["--timestamp", str(int(time.time()) - STORY_HEADSTART)]
    return launch_anvil(
        port=opts.port,
        block_time=opts.block_time,
        accounts=max(10, (opts.voters or 0) + 2),
        extra_args=extra,
        log_path=log_path,
    )


def main(argv: list[str] | None = None) -> int:
    opts = _args(argv)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    node = start_node(opts)
    try:
        record = populate(node, opts)
        if opts.state_dir:
            record["rpc_url"] = node.url
            (opts.state_dir / "chain.json").write_text(json.dumps(record, indent=2) + "\n")
        print("ready", flush=True)
        while not stop.wait(0.5):
            if node.process.poll() is not None:
                print(f"anvil exited with {node.process.returncode}", file=sys.stderr)
                return 1
        return 0
    finally:
        node.stop()


if __name__ == "__main__":
    sys.exit(main())
