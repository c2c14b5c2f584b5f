"""One ingest per configuration (direct, behind capped proxies), checked against the chain."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench_common import Json, say, timed
from chain_common import DEFAULT_RPS, MAX_BLOCK_RANGE, Config
from chain_requests import make_source
from chain_setup import Chain
from rich.console import Console

from agent.ingest import IngestCounts, ingest
from agent.store import RecordStore
from tests.chain.anvil import AnvilNode
from tests.fakes.capped_rpc import CappedRPC


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
