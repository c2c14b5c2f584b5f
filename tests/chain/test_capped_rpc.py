"""The misbehaving provider proxy (tests/fakes/capped_rpc.py) in front of a real anvil: range
and result caps with each provider's error body, injected HTTP failures, broken logs,
batches, and the per-method counts benchmarks read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from web3 import Web3
from web3.exceptions import Web3RPCError

from tests.chain.anvil import AnvilNode
from tests.chain.deploy import Deployment
from tests.chain.evm import mine
from tests.chain.harness import propose, send_eth
from tests.fakes.capped_rpc import CappedRPC


@pytest.fixture
def proxy(anvil_node: AnvilNode, anvil_oz: Deployment) -> Iterator[CappedRPC]:
    """At most 10 blocks per eth_getLogs, in front of the module's anvil (OZ set deployed)."""
    with CappedRPC(anvil_node.url, max_block_range=10) as rpc:
        yield rpc


def _post(url: str, body: Any, timeout: float = 5.0) -> httpx.Response:
    return httpx.post(url, json=body, timeout=timeout)


def _get_logs(first: int, last: int | str, call_id: int = 1) -> dict[str, Any]:
    span = {"fromBlock": hex(first), "toBlock": last if isinstance(last, str) else hex(last)}
    return {"jsonrpc": "2.0", "id": call_id, "method": "eth_getLogs", "params": [span]}


def _proposals(dep: Deployment, count: int) -> int:
    """Create ``count`` proposals; returns the block of the first."""
    first = dep.w3.eth.block_number + 1
    for i in range(count):
        propose(dep, [send_eth(dep.voters[0], i + 1)], f"# Proposal {i}")
    return first


def test_rejects_wide_ranges_like_alchemy_and_passes_narrow_ones(
    anvil_oz: Deployment, proxy: CappedRPC
) -> None:
    w3 = Web3(Web3.HTTPProvider(proxy.url))
    head = w3.eth.block_number
    with pytest.raises(Web3RPCError) as wide:
        w3.eth.get_logs({"fromBlock": 0, "toBlock": head})
    error = wide.value.rpc_response["error"]  # type: ignore[index]
    assert error["code"] == -32602
    assert error["message"].startswith("Log response size exceeded.")
    assert "up to a 10 block range" in error["message"] and "[0x0, 0x9]" in error["message"]
    narrow = w3.eth.get_logs({"fromBlock": head - 9, "toBlock": head})
    assert narrow == anvil_oz.w3.eth.get_logs({"fromBlock": head - 9, "toBlock": head})
    assert narrow  # the deployment's last blocks carry logs
    assert proxy.counts["eth_getLogs"] == 2 and proxy.rejected["range"] == 1
    assert proxy.log_ranges == [(0, head), (head - 9, head)]


@pytest.mark.parametrize(
    ("style", "code", "text"),
    [
        ("infura", -32005, "query returned more than 10000 results"),
        ("quicknode", -32614, "eth_getLogs is limited to a 10 range"),
        ("generic", -32600, "exceed maximum block range: 10"),
    ],
)
def test_range_errors_in_each_providers_words(
    proxy: CappedRPC, style: Any, code: int, text: str
) -> None:
    proxy.style = style
    reply = _post(proxy.url, _get_logs(0, "latest", call_id=7)).json()
    assert reply["id"] == 7 and reply["error"]["code"] == code
    assert reply["error"]["message"].startswith(text)


def test_caps_the_number_of_logs(anvil_oz: Deployment, proxy: CappedRPC) -> None:
    first = _proposals(anvil_oz, 3)
    proxy.max_logs, proxy.style = 2, "infura"
    reply = _post(proxy.url, _get_logs(first, first + 2)).json()
    assert reply["error"]["code"] == -32005
    assert reply["error"]["message"].startswith("query returned more than 2 results")
    assert reply["error"]["data"]["from"] == hex(first)
    assert len(_post(proxy.url, _get_logs(first, first + 1)).json()["result"]) == 2


def test_injected_http_failures_then_recovery(proxy: CappedRPC) -> None:
    call = {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}
    proxy.fail_next("429", retry_after=2)
    proxy.fail_next("502")
    proxy.fail_next("garbage")
    proxy.fail_next("rpc_error")
    limited = _post(proxy.url, call)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    assert _post(proxy.url, call).status_code == 502
    with pytest.raises(ValueError):
        _post(proxy.url, call).json()
    assert _post(proxy.url, call).json()["error"] == {"code": -32000, "message": "header not found"}
    assert "result" in _post(proxy.url, call).json()
    assert proxy.counts["eth_blockNumber"] == 5
    assert proxy.rejected == {"429": 1, "502": 1, "garbage": 1, "rpc_error": 1}


def test_failure_for_one_method_waits_for_it(proxy: CappedRPC) -> None:
    proxy.fail_next("500", method="eth_getLogs")
    number = _post(proxy.url, {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"})
    assert number.status_code == 200
    assert _post(proxy.url, _get_logs(0, 0)).status_code == 500


def test_timeout_holds_the_connection(proxy: CappedRPC) -> None:
    proxy.hang_seconds = 1.0
    proxy.fail_next("timeout")
    with pytest.raises(httpx.ReadTimeout):
        _post(proxy.url, _get_logs(0, 0), timeout=0.2)


def test_breaks_a_log_in_the_next_non_empty_answer(anvil_oz: Deployment, proxy: CappedRPC) -> None:
    first = _proposals(anvil_oz, 1)
    mine(anvil_oz.w3, 1)
    proxy.fail_next("log_missing_topics")
    proxy.fail_next("log_bad_data")
    assert _post(proxy.url, _get_logs(first + 1, first + 1)).json()["result"] == []  # untouched
    broken = _post(proxy.url, _get_logs(first, first)).json()["result"]
    assert "topics" not in broken[0]
    bad = _post(proxy.url, _get_logs(first, first)).json()["result"]
    assert bad[0]["data"] == "0xnot-hex" and "topics" in bad[0]
    good = _post(proxy.url, _get_logs(first, first)).json()["result"]
    assert good[0]["data"].startswith("0x") and good[0]["topics"]


def test_batches_are_answered_call_by_call(proxy: CappedRPC) -> None:
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
        _get_logs(0, "latest", call_id=2),
        {"jsonrpc": "2.0", "id": 3, "method": "eth_blockNumber", "params": []},
    ]
    replies = {r["id"]: r for r in _post(proxy.url, batch).json()}
    assert replies[1]["result"] == "0x7a69"
    assert replies[2]["error"]["code"] == -32602
    assert "result" in replies[3]
    assert proxy.http_requests == 1
    assert proxy.counts == {"eth_chainId": 1, "eth_getLogs": 1, "eth_blockNumber": 1}
