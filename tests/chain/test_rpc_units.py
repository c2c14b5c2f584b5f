"""ChainRpc's error handling, the adaptive log window and reorg checkpoints, without a node.

The calls raise what web3/requests raise for real provider answers; the node-backed
behaviour is covered in test_chain_source.py (eth-tester) and test_anvil.py.
"""

from __future__ import annotations

import itertools

import pytest
import requests
from web3 import Web3
from web3.exceptions import ContractLogicError, Web3RPCError

from agent.errors import RateLimited, SourceError, SourceUnavailable
from connectors.chain.logs import RangeWindow, scan_logs
from connectors.chain.reorg import Checkpoints
from connectors.chain.rpc import BlockInfo, ChainRpc, RangeTooLarge

SECRET_URL = "https://eth-mainnet.example.invalid/v2/sk_live_abcdef123456"


def _rpc(**kwargs: object) -> tuple[ChainRpc, list[float]]:
    slept: list[float] = []
    rpc = ChainRpc(
        Web3(), label="chain test", secret=SECRET_URL, max_retries=3, sleep=slept.append, **kwargs
    )
    return rpc, slept


def _http_error(status: int, retry_after: str | None = None) -> requests.HTTPError:
    response = requests.Response()
    response.status_code = status
    response.url = SECRET_URL
    if retry_after:
        response.headers["Retry-After"] = retry_after
    return requests.HTTPError(f"{status} Error for url: {SECRET_URL}", response=response)


def _rpc_error(message: str, code: int = -32000) -> Web3RPCError:
    return Web3RPCError(message, rpc_response={"error": {"code": code, "message": message}})


class Flaky:
    """Fails with the given errors in order, then answers."""

    def __init__(self, *errors: Exception, answer: object = 42) -> None:
        self.errors = list(errors)
        self.answer = answer
        self.calls = 0

    def __call__(self) -> object:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.answer


def test_transient_failures_are_retried_with_backoff_and_retry_after() -> None:
    rpc, slept = _rpc()
    fn = Flaky(_http_error(429, "7"), _http_error(503), requests.Timeout("read timed out"))
    assert rpc.call("eth_blockNumber", fn) == 42
    assert fn.calls == 4
    assert slept[0] == 7.0  # Retry-After honoured
    assert slept[1:] == [0.5, 1.0]  # then exponential backoff
    assert rpc.retries == 3


def test_persistent_rate_limit_is_reported_without_the_url() -> None:
    rpc, _ = _rpc()
    fn = Flaky(*[_http_error(429) for _ in range(10)])
    with pytest.raises(RateLimited) as info:
        rpc.call("eth_getLogs(1..2)", fn)
    assert fn.calls == 4
    text = str(info.value)
    assert "HTTP 429" in text and "sk_live" not in text and "example.invalid" not in text
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_connection_errors_never_carry_the_url() -> None:
    rpc, _ = _rpc()
    error = requests.ConnectionError(f"HTTPSConnectionPool: Max retries exceeded with {SECRET_URL}")
    with pytest.raises(SourceUnavailable) as info:
        rpc.call("eth_chainId", Flaky(*[error] * 5))
    assert "sk_live" not in str(info.value) and "<rpc url>" in str(info.value)


@pytest.mark.parametrize(
    "message",
    [
        "query returned more than 10000 results",
        "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block "
        "range and no limit on the response size",
        "block range is too wide",
        "exceed maximum block range: 5000",
    ],
)
def test_range_errors_become_range_too_large(message: str) -> None:
    rpc, slept = _rpc()
    with pytest.raises(RangeTooLarge):
        rpc.call("eth_getLogs", Flaky(_rpc_error(message, -32005)), range_query=True)
    assert slept == []  # not retried: the scanner shrinks instead


def test_a_node_still_syncing_is_transient_but_a_bad_request_is_not() -> None:
    rpc, _ = _rpc()
    assert rpc.call("eth_call", Flaky(_rpc_error("header not found"))) == 42
    with pytest.raises(SourceError, match="invalid argument"):
        rpc.call("eth_call", Flaky(_rpc_error("invalid argument 0: hex string without 0x")))


def test_reverts_pass_through_untouched() -> None:
    rpc, _ = _rpc()
    with pytest.raises(ContractLogicError):
        rpc.call("state(1)", Flaky(ContractLogicError("execution reverted")))


class CappedLogs:
    """A provider refusing ranges over `cap` blocks; records the ranges asked."""

    def __init__(self, cap: int, logs_per_block: int = 0) -> None:
        self.cap = cap
        self.asked: list[tuple[int, int]] = []
        self.per_block = logs_per_block

    def get_logs(self, _address: str, _topics: list[str], frm: int, to: int) -> list[int]:
        self.asked.append((frm, to))
        if to - frm + 1 > self.cap:
            raise RangeTooLarge(f"range {frm}..{to} over {self.cap}")
        return list(range((to - frm + 1) * self.per_block))


def test_the_window_shrinks_to_what_the_provider_allows_and_covers_every_block() -> None:
    provider = CappedLogs(cap=300)
    window = RangeWindow(maximum=2000)
    ranges = [(f, t) for f, t, _ in scan_logs(provider, "0x", [], 1, 5000, window)]  # type: ignore[arg-type]
    assert ranges[0][0] == 1 and ranges[-1][1] == 5000
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(ranges))
    assert all(t - f + 1 <= 300 for f, t in ranges)
    assert window.shrinks >= 3


@pytest.mark.parametrize(
    ("message", "size"),
    [
        (
            "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block"
            " range and no limit on the response size. Based on your parameters, this block "
            "range should work: [0x1, 0x7d0]",
            2000,
        ),
        ("query returned more than 10000 results. Try with this block range [0x1, 0x12b].", 299),
        ("eth_getLogs is limited to a 1,000 range", 1000),
        ("exceed maximum block range: 500", 500),
        ("block range is too wide", 2500),  # no hint: half of what was refused
    ],
)
def test_a_refusal_that_names_a_range_is_followed_at_once(message: str, size: int) -> None:
    window = RangeWindow(maximum=5000)

    class Hinting:
        calls = 0

        def get_logs(self, _a: str, _t: list[str], frm: int, to: int) -> list[int]:
            Hinting.calls += 1
            if Hinting.calls == 1:
                raise RangeTooLarge(message)
            return []

    list(scan_logs(Hinting(), "0x", [], 1, 20_000, window))  # type: ignore[arg-type]
    assert window.shrinks == 1 and window.maximum == size


def test_the_window_stays_small_when_answers_are_big() -> None:
    window = RangeWindow(maximum=4096, initial=64)
    window.grow(5000)
    assert window.size == 64
    window.grow(10)
    assert window.size == 128


def test_a_provider_refusing_even_one_block_is_a_clear_error() -> None:
    with pytest.raises(SourceError, match="even a 1-block range"):
        list(scan_logs(CappedLogs(cap=0), "0x", [], 1, 10, RangeWindow(8)))  # type: ignore[arg-type]


class Chain:
    def __init__(self, hashes: dict[int, str]) -> None:
        self.hashes = hashes

    def block(self, number: int) -> BlockInfo | None:
        h = self.hashes.get(number)
        return BlockInfo(number=number, hash=h, parent_hash="", timestamp=0) if h else None


def test_checkpoints_find_the_newest_block_still_canonical() -> None:
    cps = Checkpoints([(10, "a"), (20, "b"), (30, "c")])
    assert cps.restart_point(Chain({10: "a", 20: "b", 30: "c"}), floor=0) is None
    assert cps.restart_point(Chain({10: "a", 20: "b", 30: "X"}), floor=0) == 21
    assert cps.restart_point(Chain({10: "a", 20: "Y", 30: "X"}), floor=0) == 11
    assert cps.restart_point(Chain({10: "Z"}), floor=5) == 5  # nothing left: from the start
    cps.truncate(21)
    assert cps.last_block == 20
    again = Checkpoints.from_cursor(cps.to_cursor())
    assert again.entries == [(10, "a"), (20, "b")]
