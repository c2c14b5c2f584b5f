"""Counting JSON-RPC requests by method and by the call ChainSource made, with their time."""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench_common import Json
from chain_common import CHAIN_ID, GOVERNOR, MAX_BLOCK_RANGE
from chain_setup import Chain

from agent.settings import ChainSettings
from connectors.chain.rpc import ChainRpc
from connectors.chain.source import ChainSource


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
