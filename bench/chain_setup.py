"""The benchmark's chain: a fresh anvil with the OpenZeppelin governor set, loaded in bulk."""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx
import web3
from bench_common import Json, say, timed
from chain_common import (
    CANCEL_SHARE,
    CHAIN_ID,
    MINE_STEP,
    QUEUE_SHARE,
    STATE_NAMES,
    TAIL_BLOCKS,
    TIMELOCK_DELAY,
)
from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector, keccak
from rich.console import Console

from tests.chain.anvil import AnvilNode
from tests.chain.bulk import BulkSender, Tx, call_tx
from tests.chain.demo_story import (
    DELEGATE_BALANCES,
    _bench_proposals,
    bench_load,
)
from tests.chain.deploy import TREASURY_USDC, OzDeployment, deploy_oz
from tests.chain.evm import advance_time, mine


# ---- the chain ----------------------------------------------------------------
@dataclass
class Chain:
    """What was put on the chain: the ground truth the stores are checked against."""

    dep: OzDeployment
    node: AnvilNode
    proposals: dict[int, str] = field(default_factory=dict)
    """proposal id -> state on the chain at the end ("defeated", "queued", ...)."""
    votes: set[tuple[int, str]] = field(default_factory=set)
    """(proposal id, voter address, lower case) of every vote cast."""
    lifecycle: Counter[str] = field(default_factory=Counter)
    head: int = 0
    facts: Json = field(default_factory=dict)

    def uid(self, pid: int) -> str:
        return f"chain:{CHAIN_ID}:{self.dep.governor.address.lower()}:{pid}"

    @property
    def events(self) -> int:
        return len(self.proposals) + len(self.votes) + sum(self.lifecycle.values())


def _proposal_args(tx: Tx) -> tuple[list[str], list[int], list[bytes], str]:
    """(targets, values, calldatas, description) of an encoded `propose` call."""
    targets, values, calldatas, description = decode(
        ["address[]", "uint256[]", "bytes[]", "string"], tx.data[4:]
    )
    return list(targets), list(values), list(calldatas), str(description)


def _lifecycle_call(dep: OzDeployment, name: str, tx: Tx, *, sender: str, gas: int) -> Tx:
    """queue / execute / cancel of a proposal, from the `propose` transaction that made it."""
    targets, values, calldatas, description = _proposal_args(tx)
    args = [targets, values, calldatas, keccak(text=description)]
    return call_tx(dep.governor, name, args, sender=sender, gas=gas)  # type: ignore[arg-type]


def _states(url: str, dep: OzDeployment, ids: Sequence[int]) -> list[str]:
    """Every proposal's state, read in JSON-RPC batches (not through Steward's code)."""
    selector = function_signature_to_4byte_selector("state(uint256)")
    states: list[str] = []
    with httpx.Client(timeout=60.0) as client:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            body = [
                {
                    "jsonrpc": "2.0",
                    "id": i,
                    "method": "eth_call",
                    "params": [
                        {
                            "to": dep.governor.address,
                            "data": "0x" + (selector + encode(["uint256"], [pid])).hex(),
                        },
                        "latest",
                    ],
                }
                for i, pid in enumerate(chunk)
            ]
            replies = sorted(client.post(url, json=body).json(), key=lambda r: r["id"])
            states += [STATE_NAMES[int(r["result"], 16)] for r in replies]
    return states


def _transfer_amount(tx: Tx) -> int:
    """USDC moved by a bench proposal (its one action is `transfer(to, amount)`)."""
    _, _, calldatas, _ = _proposal_args(tx)
    _, amount = decode(["address", "uint256"], calldatas[0][4:])
    return int(amount)


def _withdrawn(dep: OzDeployment, count: int) -> tuple[list[int], list[Tx]]:
    """`count` more proposals, distinct from the bench ones, to be canceled at once."""
    _, txs = _bench_proposals(dep, count)
    renamed: list[Tx] = []
    for tx in txs:
        targets, values, calldatas, description = _proposal_args(tx)
        text = description.replace("# [Bench ", "# [Withdrawn ", 1)
        args = [targets, values, calldatas, text]
        renamed.append(call_tx(dep.governor, "propose", args, sender=tx.sender, gas=tx.gas))
    new_ids = []  # OpenZeppelin's hashProposal, computed locally
    for tx in renamed:
        targets, values, calldatas, description = _proposal_args(tx)
        encoded = encode(
            ["address[]", "uint256[]", "bytes[]", "bytes32"],
            [targets, values, calldatas, keccak(text=description)],
        )
        new_ids.append(int.from_bytes(keccak(encoded), "big"))
    return new_ids, renamed


def mine_in_steps(w3: web3.Web3, blocks: int) -> None:
    """anvil_mine in steps short enough for the client's 30 s timeout."""
    for start in range(0, blocks, MINE_STEP):
        mine(w3, min(MINE_STEP, blocks - start))


def populate(node: AnvilNode, args: argparse.Namespace, console: Console) -> Chain:
    """Deploy, pad, load proposals and votes in bulk, then queue/execute/cancel some."""
    w3 = node.web3()
    accounts = [web3.Web3.to_checksum_address(a) for a in w3.eth.accounts]
    period = 100 + args.proposals * args.votes // 100 + args.proposals // 10
    started = time.perf_counter()
    dep = deploy_oz(
        w3,
        voters=accounts[1:6],
        balances=[b * 10**18 for b in DELEGATE_BALANCES],
        voting_period=period,
        timelock_delay=TIMELOCK_DELAY,
    )
    chain = Chain(dep=dep, node=node)
    facts: Json = {"voting_period_blocks": period, "timelock_delay_s": TIMELOCK_DELAY}
    # Empty blocks go first: anvil's cost per mined block grows with the chain, and far
    # faster once it holds thousands of transactions (one 2,000-block anvil_mine after the
    # bulk load took over 30 s here). The tail (votes, lifecycle) adds about a period.
    pad = max(0, args.blocks - w3.eth.block_number - period - TAIL_BLOCKS)
    say(console, f"padding with {pad:,} empty blocks")
    with timed() as t:
        mine_in_steps(w3, pad)
    facts["pad_before"] = {"blocks": pad, "seconds": round(t.wall, 2)}
    voters = accounts[1 : 1 + args.votes]
    say(console, f"bulk: {args.proposals:,} proposals x {args.votes} votes")
    with timed() as t:
        load = bench_load(dep, node.url, proposals=args.proposals, voters=voters)
    facts["bulk_load"] = {**load, "seconds": round(t.wall, 2)}
    ids, txs = _bench_proposals(dep, args.proposals)  # the ids bench_load proposed
    chain.votes = {(pid, v.lower()) for pid in ids for v in voters}

    with timed() as t:
        mine(w3, period + 1)  # every vote is over
        states = _states(node.url, dep, ids)
        chain.proposals = dict(zip(ids, states, strict=True))
        succeeded = [i for i, s in enumerate(states) if s == "succeeded"]
        queued = succeeded[: max(1, args.proposals // QUEUE_SHARE)]
        budget, executed = TREASURY_USDC, []
        for i in queued[: len(queued) // 2]:
            amount = _transfer_amount(txs[i])
            if amount <= budget:
                budget -= amount
                executed.append(i)
        withdrawn_ids, withdrawn = _withdrawn(dep, max(1, args.proposals // CANCEL_SHARE))
        with BulkSender(node.url) as bulk:
            bulk.run(
                [_lifecycle_call(dep, "queue", txs[i], sender=dep.deployer, gas=400_000)
                 for i in queued]
            )  # fmt: skip
            advance_time(w3, TIMELOCK_DELAY + 1)
            bulk.run(
                [_lifecycle_call(dep, "execute", txs[i], sender=dep.deployer, gas=600_000)
                 for i in executed]
            )  # fmt: skip
            bulk.run(withdrawn)  # Pending until the next block: the proposer may cancel
            bulk.run(
                [_lifecycle_call(dep, "cancel", tx, sender=tx.sender, gas=300_000)
                 for tx in withdrawn]
            )  # fmt: skip
    facts["lifecycle_s"] = round(t.wall, 2)
    for i in queued:
        chain.proposals[ids[i]] = "queued"
    for i in executed:
        chain.proposals[ids[i]] = "executed"
    chain.proposals.update(dict.fromkeys(withdrawn_ids, "canceled"))
    chain.lifecycle = Counter(queued=len(queued), executed=len(executed), canceled=len(withdrawn))
    final = _states(node.url, dep, list(chain.proposals))
    if final != list(chain.proposals.values()):
        raise RuntimeError("the chain's proposal states differ from what was set up")
    pad = max(0, args.blocks - w3.eth.block_number)
    with timed() as t:
        mine_in_steps(w3, pad)
    facts["pad_after"] = {"blocks": pad, "seconds": round(t.wall, 2)}
    chain.head = w3.eth.block_number
    facts.update(
        start_block=dep.start_block,
        head=chain.head,
        blocks_to_scan=chain.head - dep.start_block + 1,
        proposals=len(chain.proposals),
        votes=len(chain.votes),
        voters=args.votes,
        lifecycle_events=dict(chain.lifecycle),
        events=chain.events,
        states=dict(Counter(chain.proposals.values())),
        seconds=round(time.perf_counter() - started, 2),
    )
    chain.facts = facts
    return chain
