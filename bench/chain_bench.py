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
import cProfile
import os
import platform
import pstats
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import web3
from bench_common import Json, report_failed_checks, run_in_fresh_home, say, timed
from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector, keccak
from rich.console import Console
from rich.table import Table

from agent.ingest import IngestCounts, ingest
from agent.settings import ChainSettings
from agent.store import RecordStore
from connectors.chain.rpc import ChainRpc
from connectors.chain.source import ChainSource

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))  # for tests.chain: anvil, the governor set, bulk txs

from tests.chain.anvil import AnvilNode, anvil_binary, launch_anvil  # noqa: E402
from tests.chain.bulk import BulkSender, Tx, call_tx  # noqa: E402
from tests.chain.demo_story import (  # noqa: E402
    DELEGATE_BALANCES,
    _bench_proposals,
    bench_load,
)
from tests.chain.deploy import TREASURY_USDC, OzDeployment, deploy_oz  # noqa: E402
from tests.chain.evm import advance_time, mine  # noqa: E402
from tests.fakes.capped_rpc import CappedRPC  # noqa: E402

DEFAULT_OUT = PROJECT_ROOT / "bench" / "results" / "chain_ingest.json"
CHAIN_ID = 31337
GOVERNOR = "bench-dao"
MAX_BLOCK_RANGE = 10_000
TIMELOCK_DELAY = 60
QUEUE_SHARE = 10  # 1 proposal in 10 (if it succeeded) is queued ...
CANCEL_SHARE = 100  # ... and 1 in 100 more is proposed and withdrawn at once
DEFAULT_RPS = 20.0  # ChainSettings.requests_per_second: the app paces requests to this
STATE_NAMES = ("pending", "active", "canceled", "defeated", "succeeded", "queued", "expired",
               "executed")  # fmt: skip
PROFILE_TOP = 15
MINE_STEP = 250
TAIL_BLOCKS = 60  # what the bulk load and the lifecycle mine besides one voting period


@dataclass(frozen=True)
class Config:
    name: str
    label: str
    proxy: bool = False
    """Through a CappedRPC proxy (in this process: its time counts) rather than direct."""
    cap: int | None = None
    """The proxy's eth_getLogs block cap; None: no cap."""


CONFIGS = (
    Config("direct", "direct to anvil"),
    Config("proxy_uncapped", "CappedRPC, no cap (the proxy's own cost)", proxy=True),
    Config("capped_2000", "CappedRPC, 2,000-block cap (Alchemy-like)", proxy=True, cap=2000),
    Config("capped_500", "CappedRPC, 500-block cap", proxy=True, cap=500),
)


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


# ---- counting requests -------------------------------------------------------
@dataclass
class Requests:
    """What one ChainRpc sent: JSON-RPC requests by method, and ChainSource's calls."""

    methods: Counter[str] = field(default_factory=Counter)
    calls: Counter[str] = field(default_factory=Counter)
    call_seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    logs: int = 0
    errors: int = 0
    event_blocks: set[int] = field(default_factory=set)
    logs_with_timestamp: int = 0

    def summary(self) -> Json:
        return {
            "total": sum(self.methods.values()),
            "by_method": dict(self.methods.most_common()),
            "by_call": {
                name: {"n": n, "seconds": round(self.call_seconds[name], 3)}
                for name, n in self.calls.most_common()
            },
            "logs_returned": self.logs,
            "logs_with_blockTimestamp": self.logs_with_timestamp,
            "distinct_event_blocks": len(self.event_blocks),
            "error_answers": self.errors,
        }


_CALL_NAME = re.compile(r"[A-Za-z_]+")


def instrument(rpc: ChainRpc) -> Requests:
    """Count `rpc`'s JSON-RPC requests (at the provider) and time ChainRpc.call by call."""
    seen = Requests()
    provider = rpc.w3.provider
    send = provider.make_request

    http_send = provider._make_request  # type: ignore[attr-defined]

    def counted_http(method: Any, request_data: Any) -> Any:
        # Counted where the HTTP request is made: web3's request cache (eth_chainId) answers
        # some calls without one, and those cost nothing.
        seen.methods[str(method)] += 1
        return http_send(method, request_data)

    def make_request(method: Any, params: Any) -> Any:
        response = send(method, params)
        if isinstance(response, dict):
            if "error" in response:
                seen.errors += 1
            elif method == "eth_getLogs" and isinstance(response.get("result"), list):
                logs = response["result"]
                seen.logs += len(logs)
                seen.logs_with_timestamp += sum(1 for log in logs if "blockTimestamp" in log)
                seen.event_blocks.update(int(log["blockNumber"], 16) for log in logs)
        return response

    call = rpc.call

    def timed_call(what: str, fn: Callable[[], Any], *, range_query: bool = False) -> Any:
        match = _CALL_NAME.match(what)
        name = match.group(0) if match else what
        t0 = time.perf_counter()
        try:
            return call(what, fn, range_query=range_query)
        finally:
            seen.calls[name] += 1
            seen.call_seconds[name] += time.perf_counter() - t0

    provider.make_request = make_request  # type: ignore[method-assign]
    provider._make_request = counted_http  # type: ignore[attr-defined]
    rpc.call = timed_call  # type: ignore[method-assign]
    return seen


def make_source(
    chain: Chain, url: str, *, validation_middleware: bool = True
) -> tuple[ChainSource, Requests]:
    """A ChainSource as `steward ingest --chain` builds it, minus request pacing.

    `validation_middleware=False` is an experiment: without web3's "validation"
    middleware, an eth_call no longer costs two eth_chainId requests besides.
    """
    dep = chain.dep
    settings = ChainSettings(
        name="bench-anvil",
        rpc_url=url,
        chain_id=CHAIN_ID,
        confirmations=0,
        max_block_range=MAX_BLOCK_RANGE,
        governors=[
            {"name": GOVERNOR, "address": dep.governor.address, "kind": "oz",
             "start_block": dep.start_block},
        ],
        contracts=[
            {"address": dep.assets.usdc.address, "name": "USD Coin", "kind": "token",
             "symbol": "USDC", "decimals": 6},
            {"address": dep.timelock.address, "name": "DAO Timelock", "kind": "timelock"},
        ],
    )  # fmt: skip
    # No requests_per_second: this measures Steward and the node, not the app's default pacing.
    rpc = ChainRpc.connect(url, label="chain bench", timeout=settings.timeout_s)
    if not validation_middleware:
        rpc.w3.middleware_onion.remove("validation")
    return ChainSource(rpc, settings), instrument(rpc)


# ---- measuring ----------------------------------------------------------------
def _rate(n: float, seconds: float) -> float:
    return round(n / seconds, 1) if seconds > 0 else 0.0


def one_ingest(
    chain: Chain, url: str, store: RecordStore, **source_options: Any
) -> tuple[IngestCounts, Json]:
    source, seen = make_source(chain, url, **source_options)
    with timed() as t:
        counts = ingest(source, store)
    requests = seen.summary()
    calls = sum(seen.calls.values())
    return counts, {
        "wall_s": round(t.wall, 3),
        "cpu_s": round(t.cpu, 3),
        "counts": counts.model_dump(),
        "requests": requests,
        # ChainRpc paces each call (not each HTTP request: web3's eth_chainId go unpaced).
        "paced_calls": calls,
        "floor_at_default_pacing_s": round(calls / DEFAULT_RPS, 1),
    }


def check_store(chain: Chain, store: RecordStore) -> Json:
    """Every proposal and vote on the chain is in the store, with the chain's final state."""
    missing, wrong_state, votes_missing, votes_extra = 0, 0, 0, 0
    voters = _votes_by_pid(chain)
    for pid, state in chain.proposals.items():
        stored = store.get(chain.uid(pid))
        if stored is None:
            missing += 1
            continue
        if stored.proposal.state != state:
            wrong_state += 1
        have = {v.voter.lower() for v in store.votes(chain.uid(pid))}
        want = voters.get(pid, set())
        votes_missing += len(want - have)
        votes_extra += len(have - want)
    stored_total = len(store.proposals(source="chain"))
    return {
        "proposals_stored": stored_total,
        "proposals_missing": missing,
        "proposals_in_wrong_state": wrong_state,
        "votes_missing": votes_missing,
        "votes_unexpected": votes_extra,
        "ok": missing == 0
        and wrong_state == 0
        and votes_missing == 0
        and votes_extra == 0
        and stored_total == len(chain.proposals),
    }


def _votes_by_pid(chain: Chain) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for pid, voter in chain.votes:
        out.setdefault(pid, set()).add(voter)
    return out


@contextmanager
def endpoint(node: AnvilNode, config: Config) -> Iterator[tuple[str, CappedRPC | None]]:
    if not config.proxy:
        yield node.url, None
        return
    with CappedRPC(node.url, max_block_range=config.cap, style="alchemy") as proxy:
        yield proxy.url, proxy


def bench_config(chain: Chain, config: Config, home: Path, console: Console) -> Json:
    """A full ingest into a fresh store, then an incremental one with nothing new."""
    store = RecordStore(f"sqlite:///{home / (config.name + '.db')}")
    try:
        with endpoint(chain.node, config) as (url, proxy):
            say(console, f"{config.label}: full ingest")
            counts, full = one_ingest(chain, url, store)
            if proxy is not None:
                full["proxy"] = _proxy_figures(proxy, config.cap)
                full["proxy_count_agrees"] = (
                    full["proxy"]["by_method"] == full["requests"]["by_method"]
                )
                proxy.reset_counts()
            blocks = chain.head - chain.dep.start_block + 1
            full["blocks_scanned"] = blocks
            full["blocks_per_s"] = _rate(blocks, full["wall_s"])
            full["events_per_s"] = _rate(chain.events, full["wall_s"])
            full["range_refusals"] = (
                full["proxy"]["range_refusals"] if proxy else full["requests"]["error_answers"]
            )
            say(console, f"{config.label}: incremental ingest, nothing new")
            again_counts, again = one_ingest(chain, url, store)
            if proxy is not None:
                again["proxy"] = _proxy_figures(proxy, config.cap)
        stored = check_store(chain, store)
    finally:
        store.close()
    nothing_new = again_counts.new == 0 and again_counts.votes == 0
    return {
        "label": config.label,
        "cap": config.cap,
        "max_block_range": MAX_BLOCK_RANGE,
        "full": full,
        "incremental": {**again, "nothing_new": nothing_new},
        "store": stored,
        "all_events_read": full["requests"]["logs_returned"] == chain.events,
        "counts_match": counts.new == len(chain.proposals) and counts.votes == len(chain.votes),
    }


def experiment_without_validation(chain: Chain, home: Path, console: Console) -> Json:
    """The direct full ingest again, with web3's "validation" middleware removed."""
    say(console, "experiment: direct full ingest without web3's validation middleware")
    store = RecordStore(f"sqlite:///{home / 'no-validation.db'}")
    try:
        _, full = one_ingest(chain, chain.node.url, store, validation_middleware=False)
        stored = check_store(chain, store)
    finally:
        store.close()
    full["blocks_per_s"] = _rate(chain.head - chain.dep.start_block + 1, full["wall_s"])
    full["events_per_s"] = _rate(chain.events, full["wall_s"])
    return {
        "what": "w3.middleware_onion.remove('validation') on ChainRpc's Web3 (bench only)",
        "full": full,
        "store_ok": stored["ok"],
    }


def _proxy_figures(proxy: CappedRPC, cap: int | None) -> Json:
    accepted = [(f, t) for f, t in proxy.log_ranges if cap is None or t - f + 1 <= cap]
    widths = [t - f + 1 for f, t in accepted]
    return {
        "by_method": dict(proxy.counts.most_common()),
        "http_requests": proxy.http_requests,
        "range_refusals": proxy.rejected["range"],
        "get_logs_asked": len(proxy.log_ranges),
        "get_logs_widest_accepted": max(widths, default=0),
        "get_logs_widths_asked": [t - f + 1 for f, t in proxy.log_ranges][:12],
    }


# ---- profile --------------------------------------------------------------------
# (file suffix, function name) -> bucket. Buckets are disjoint subtrees of the ingest.
BUCKETS: dict[str, list[tuple[str, str]]] = {
    "eth_getLogs (request + web3 log formatting)": [("connectors/chain/rpc.py", "get_logs")],
    "log decoding (GovernorReader.decode)": [("connectors/chain/governor.py", "decode")],
    "eth_getBlockByNumber (timestamps, checkpoints)": [("connectors/chain/rpc.py", "block")],
    "state() reads": [("connectors/chain/governor.py", "state")],
    "proposalVotes() tally reads": [("connectors/chain/governor.py", "tally")],
    "quorum() reads": [("connectors/chain/governor.py", "quorum")],
    "action decoding (decode_actions)": [("agent/decode/decode.py", "decode_actions")],
    "store writes (apply_proposals, apply_votes)": [
        ("agent/store/records.py", "apply_proposals"),
        ("agent/store/records.py", "apply_votes"),
    ],
    "store reads (get, vote_count, refs)": [
        ("agent/store/records.py", "get"),
        ("agent/store/records.py", "vote_count"),
        ("agent/store/records.py", "refs"),
    ],
}


def _key_label(key: tuple[str, int, str]) -> str:
    file, line, name = key
    path = Path(file)
    try:
        short = str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        parts = path.parts
        short = (
            "/".join(parts[parts.index("site-packages") + 1 :])
            if "site-packages" in parts
            else file
        )
    return f"{short}:{line}({name})"


def profile_ingest(chain: Chain, home: Path) -> Json:
    """cProfile one more direct ingest (fresh store): time by bucket and top functions."""
    store = RecordStore(f"sqlite:///{home / 'profiled.db'}")
    source, seen = make_source(chain, chain.node.url)
    profiler = cProfile.Profile()
    try:
        t0 = time.perf_counter()
        profiler.enable()
        ingest(source, store)
        profiler.disable()
        wall = time.perf_counter() - t0
    finally:
        store.close()
    stats = pstats.Stats(profiler)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    buckets: Json = {}
    for bucket, wanted in BUCKETS.items():
        seconds, calls = 0.0, 0
        for (file, _line, name), (_cc, nc, _tt, ct, _callers) in raw.items():
            if any(file.endswith(suffix) and name == fn for suffix, fn in wanted):
                seconds += ct
                calls += nc
        buckets[bucket] = {"seconds": round(seconds, 3), "calls": calls,
                           "share": round(seconds / wall, 3)}  # fmt: skip
    accounted = sum(b["seconds"] for b in buckets.values())
    buckets["everything else (ingest loop, models, mapping)"] = {
        "seconds": round(wall - accounted, 3),
        "calls": 0,
        "share": round((wall - accounted) / wall, 3),
    }

    def callers(suffix: str, function: str) -> dict[str, int]:
        found: Counter[str] = Counter()
        for (file, _line, name), entry in raw.items():
            if file.endswith(suffix) and name == function:
                for (cfile, _cline, cname), cstat in entry[4].items():
                    found[f"{Path(cfile).name}:{cname}"] += cstat[1]
        return dict(found.most_common())

    http_seconds = sum(
        v[3]
        for (file, _l, name), v in raw.items()
        if file.endswith("web3/providers/rpc/rpc.py") and name == "_make_request"
    )

    def top(sort_index: int) -> list[Json]:
        rows = sorted(raw.items(), key=lambda kv: kv[1][sort_index], reverse=True)[:PROFILE_TOP]
        return [
            {"function": _key_label(k), "calls": v[1], "tottime_s": round(v[2], 3),
             "cumtime_s": round(v[3], 3)}
            for k, v in rows
        ]  # fmt: skip

    return {
        "profiled_wall_s": round(wall, 3),
        "requests": seen.summary(),
        "buckets": buckets,
        "http_round_trips_s": round(http_seconds, 3),
        "callers": {
            "ChainRpc.block (eth_getBlockByNumber)": callers("connectors/chain/rpc.py", "block"),
            "GovernorReader.state": callers("connectors/chain/governor.py", "state"),
            "_GovernorSync._with_tally (tally + quorum)": callers(
                "connectors/chain/source.py", "_with_tally"
            ),
        },
        "top_cumulative": top(3),
        "top_own_time": top(2),
    }


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


# ---- report -------------------------------------------------------------------------
def _table(title: str, columns: Sequence[str], rows: list[list[str]]) -> Table:
    table = Table(title=title, title_justify="left")
    for i, name in enumerate(columns):
        table.add_column(name, justify="left" if i == 0 else "right", no_wrap=i == 0)
    for row in rows:
        table.add_row(*row)
    return table


def _methods(by_method: dict[str, int]) -> str:
    short = {"eth_getBlockByNumber": "getBlock", "eth_getLogs": "getLogs", "eth_call": "call",
             "eth_blockNumber": "blockNumber", "eth_chainId": "chainId"}  # fmt: skip
    return ", ".join(f"{short.get(k, k)} {v:,}" for k, v in by_method.items())


def render(console: Console, r: Json) -> None:
    c = r["chain"]
    console.print(
        f"chain: {c['blocks_to_scan']:,} blocks ({c['start_block']}..{c['head']}), "
        f"{c['proposals']:,} proposals, {c['votes']:,} votes, lifecycle "
        f"{c['lifecycle_events']}, {c['events']:,} events; states {c['states']}; "
        f"populated in {c['seconds']} s",
        highlight=False,
    )
    rows = []
    for name, x in r["configs"].items():
        f, i = x["full"], x["incremental"]
        rows.append(
            [
                name,
                f"{f['wall_s']} s",
                f"{f['blocks_per_s']:,}",
                f"{f['events_per_s']:,}",
                f"{f['requests']['total']:,}",
                str(f["range_refusals"]),
                f"{i['wall_s']} s / {i['requests']['total']:,}",
            ]
        )
    console.print(
        _table(
            "Full ChainSource ingest into a fresh SQLite store",
            ["config", "wall", "blocks/s", "events/s", "requests", "refusals", "again: wall / req"],
            rows,
        )
    )
    rows = [
        [name, _methods(x["full"]["requests"]["by_method"]),
         _methods(x["incremental"]["requests"]["by_method"])]
        for name, x in r["configs"].items()
    ]  # fmt: skip
    console.print(_table("JSON-RPC requests by method", ["config", "full", "incremental"], rows))
    direct = r["configs"]["direct"]["full"]
    rows = [
        [name, f"{v['n']:,}", f"{v['seconds']} s", f"{v['seconds'] / direct['wall_s']:.0%}"]
        for name, v in direct["requests"]["by_call"].items()
    ]
    console.print(
        _table(
            "direct: time in each ChainSource call (unprofiled)", ["call", "n", "s", "share"], rows
        )
    )
    p = r["profile"]
    rows = [
        [name, f"{b['calls']:,}", f"{b['seconds']} s", f"{b['share']:.0%}"]
        for name, b in p["buckets"].items()
    ]
    console.print(
        _table(
            f"cProfile, direct ingest ({p['profiled_wall_s']} s profiled; "
            f"HTTP round trips {p['http_round_trips_s']} s)",
            ["bucket", "calls", "cumulative", "share"],
            rows,
        )
    )
    for name, found in p["callers"].items():
        console.print(f"{name} called from: {found}", highlight=False)
    d = r["derived"]
    x = d["without_validation_middleware"]
    console.print(
        f"requests per proposal {d['requests_per_proposal']} ({d['by_call_per_proposal']}); "
        f"contract reads {d['contract_reads']:,} = {d['contract_reads_share_of_wall']:.0%} of the "
        f"direct wall time; eth_chainId {d['eth_chainId_share_of_requests']:.0%} of requests; "
        f"re-reads of new proposals in _refresh {d['refresh_rereads_of_new_proposals']:,} "
        f"(~{d['refresh_rereads_est_seconds']} s); non-final proposals "
        f"{d['non_final_proposals']} -> {d['incremental_requests_per_non_final_proposal']} "
        f"requests each on an incremental run. Experiment, web3 validation middleware removed: "
        f"{x['requests']:,} requests ({x['requests_saved']:,} fewer), {x['wall_s']} s "
        f"({x['wall_saved_share']:.0%} less wall time)",
        highlight=False,
    )
    m = r["machine"]
    console.print(
        f"machine: {m['cpu_count']} CPUs, Python {m['python']}, web3 {m['web3']}, {m['anvil']}; "
        f"{m['date']}; load {r['loadavg_start']} -> {r['loadavg_end']}; "
        f"total {r['total_seconds']} s",
        highlight=False,
    )


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
