"""A JSON-RPC proxy on 127.0.0.1 that misbehaves like hosted Ethereum providers do.

It forwards to a real node (anvil) and, in between:

- rejects ``eth_getLogs`` spanning more than ``max_block_range`` blocks, or returning more
  than ``max_logs`` logs, with the error body the chosen provider ``style`` sends;
- on demand (``fail_next``) answers the next requests with 429 + Retry-After, a 5xx, a hang,
  garbage JSON, a JSON-RPC error, or a broken log in an ``eth_getLogs`` result;
- adds ``latency`` to every answer, if asked;
- counts calls per method (``counts``), and the block ranges asked of ``eth_getLogs``.

Usage::

    with CappedRPC(anvil.url, max_block_range=2000, style="alchemy", latency=0.05) as rpc:
        w3 = Web3(Web3.HTTPProvider(rpc.url))
        rpc.fail_next("429", retry_after=1)
"""

from __future__ import annotations

import json
import threading
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any, Literal, Self

import httpx

from .local_server import LocalHTTPServer, LocalServer, QuietHandler

Style = Literal["alchemy", "infura", "quicknode", "generic"]
FailureKind = Literal[
    "429",
    "500",
    "502",
    "503",
    "timeout",
    "garbage",
    "rpc_error",
    "log_missing_topics",
    "log_bad_data",
]
Reply = tuple[int, dict[str, str], bytes]
_LOG_KINDS = ("log_missing_topics", "log_bad_data")
_HTML = b"<html><head><title>%d</title></head><body>upstream error</body></html>"


@dataclass(frozen=True)
class _Failure:
    kind: FailureKind
    retry_after: float
    method: str | None


def _short(n: int) -> str:
    return f"{n // 1000}K" if n >= 1000 and n % 1000 == 0 else str(n)


def range_error(style: Style, first: int, limit: int) -> dict[str, Any]:
    """The error a provider sends for a getLogs range over ``limit`` blocks from ``first``."""
    last = hex(first + limit - 1)
    if style == "alchemy":
        return {
            "code": -32602,
            "message": (
                f"Log response size exceeded. You can make eth_getLogs requests with up to a "
                f"{_short(limit)} block range and no limit on the response size, or you can "
                "request any block range with a cap of 10K logs in the response. Based on your "
                f"parameters, this block range should work: [{hex(first)}, {last}]"
            ),
        }
    if style == "infura":
        return {
            "code": -32005,
            "message": f"query returned more than 10000 results. Try with this block range "
            f"[{hex(first)}, {last}].",
            "data": {"from": hex(first), "to": last, "limit": 10000},
        }
    if style == "quicknode":
        return {"code": -32614, "message": f"eth_getLogs is limited to a {limit:,} range"}
    return {"code": -32600, "message": f"exceed maximum block range: {limit}"}


def too_many_logs_error(style: Style, first: int, last: int, limit: int) -> dict[str, Any]:
    """The error for a result over ``limit`` logs; suggests a range ending at ``last``."""
    if style == "alchemy":
        return range_error("alchemy", first, max(1, last - first + 1))
    return {
        "code": -32005,
        "message": f"query returned more than {limit} results. Try with this block range "
        f"[{hex(first)}, {hex(last)}].",
        "data": {"from": hex(first), "to": hex(last), "limit": limit},
    }


def _json(status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
    return (
        status,
        {"Content-Type": "application/json", **(headers or {})},
        json.dumps(payload).encode(),
    )


class _Handler(QuietHandler):
    server: LocalServer[CappedRPC]

    def do_POST(self) -> None:
        proxy = self.server.fake
        raw = self.read_body()
        try:
            reply = proxy.handle(raw)
        except Exception as exc:  # noqa: BLE001 - a bug in the fake must surface, not hang
            proxy.server_errors.append(repr(exc))
            reply = _json(500, {"error": f"capped_rpc crashed: {exc!r}"})
        if reply is None:  # injected hang: hold the socket, then close without a reply
            proxy._stopping.wait(proxy.hang_seconds)
            self.close_connection = True
            return
        self.write_reply(*reply)


class CappedRPC(LocalHTTPServer):
    """Forwards JSON-RPC to ``upstream`` with a provider's limits and failure modes."""

    handler = _Handler

    def __init__(
        self,
        upstream: str,
        *,
        max_block_range: int | None = None,
        max_logs: int | None = None,
        style: Style = "alchemy",
        hang_seconds: float = 10.0,
        latency: float = 0.0,
    ) -> None:
        super().__init__()
        self.upstream = upstream
        self.max_block_range = max_block_range
        self.max_logs = max_logs
        self.style: Style = style
        self.hang_seconds = hang_seconds
        self.latency = latency
        """Seconds added to every answer, like a distant provider (0: none)."""
        self.counts: Counter[str] = Counter()
        """JSON-RPC calls received, by method (batched calls count one each)."""
        self.http_requests = 0
        self.rejected: Counter[str] = Counter()
        """Calls answered with an error on purpose, by cause ("range", "logs", a kind)."""
        self.log_ranges: list[tuple[int, int]] = []
        """(from, to) of every eth_getLogs asked, tags resolved."""
        self.server_errors: list[str] = []
        self._failures: deque[_Failure] = deque()
        self._lock = threading.Lock()
        self._client = httpx.Client(timeout=30.0)

    def start(self) -> Self:
        if self._client.is_closed:
            self._client = httpx.Client(timeout=30.0)
        return super().start()

    def stop(self) -> None:
        super().stop()
        self._client.close()

    def fail_next(
        self,
        kind: FailureKind,
        times: int = 1,
        *,
        retry_after: float = 1.0,
        method: str | None = None,
    ) -> None:
        """Queue failures (FIFO), each consuming one HTTP request.

        ``method`` restricts a failure to requests carrying that method (``log_*`` kinds only
        ever hit an ``eth_getLogs`` that returns logs). ``retry_after`` is the 429's header.
        """
        if kind not in FailureKind.__args__:  # type: ignore[attr-defined]
            raise ValueError(f"unknown failure kind {kind!r}")
        if kind in _LOG_KINDS:
            method = "eth_getLogs"
        with self._lock:
            self._failures.extend([_Failure(kind, retry_after, method)] * times)

    def reset_counts(self) -> None:
        with self._lock:
            self.counts.clear()
            self.rejected.clear()
            self.log_ranges.clear()
            self.http_requests = 0

    # ---------------------------------------------------------------- serving
    def handle(self, raw: bytes) -> Reply | None:
        """One HTTP request → (status, headers, body); None means hang up."""
        try:
            body = json.loads(raw)
        except ValueError:
            return _json(400, {"jsonrpc": "2.0", "id": None, "error": _parse_error()})
        calls = body if isinstance(body, list) else [body]
        methods = [str(c.get("method")) for c in calls if isinstance(c, dict)]
        with self._lock:
            self.http_requests += 1
            self.counts.update(methods)
            failure = self._take_failure(methods)
        if self.latency:
            self._stopping.wait(self.latency)
        if failure is not None and failure.kind not in _LOG_KINDS:
            return self._failure_reply(failure, calls, batch=isinstance(body, list))
        replies = [self._call(c, failure) for c in calls]
        return _json(200, replies if isinstance(body, list) else replies[0])

    def _take_failure(self, methods: list[str]) -> _Failure | None:
        for i, failure in enumerate(self._failures):
            if failure.method is None or failure.method in methods:
                del self._failures[i]
                return failure
        return None

    def _failure_reply(self, failure: _Failure, calls: list[Any], *, batch: bool) -> Reply | None:
        self._count_rejected(failure.kind)
        first_id = calls[0].get("id") if calls and isinstance(calls[0], dict) else None
        if failure.kind == "429":
            error = {"code": 429, "message": "Your app has exceeded its compute units per second"}
            headers = {"Retry-After": f"{failure.retry_after:g}"}
            return _json(429, {"jsonrpc": "2.0", "id": first_id, "error": error}, headers)
        if failure.kind in ("500", "502", "503"):
            status = int(failure.kind)
            return status, {"Content-Type": "text/html"}, _HTML % status
        if failure.kind == "garbage":
            return 200, {"Content-Type": "application/json"}, b'{"jsonrpc":"2.0","id":1,"res'
        if failure.kind == "rpc_error":
            error = {"code": -32000, "message": "header not found"}
            errors = [_error(c, error) for c in calls]
            return _json(200, errors if batch else errors[0])
        return None  # timeout

    def _call(self, call: Any, failure: _Failure | None) -> dict[str, Any]:
        if not isinstance(call, dict):
            return {"jsonrpc": "2.0", "id": None, "error": _parse_error()}
        if call.get("method") != "eth_getLogs":
            return self._forward(call)
        first, last = self._resolve_range(call)
        with self._lock:
            self.log_ranges.append((first, last))
        if self.max_block_range is not None and last - first + 1 > self.max_block_range:
            self._count_rejected("range")
            return _error(call, range_error(self.style, first, self.max_block_range))
        reply = self._forward(call)
        logs = reply.get("result")
        if isinstance(logs, list) and self.max_logs is not None and len(logs) > self.max_logs:
            self._count_rejected("logs")
            over = int(logs[self.max_logs]["blockNumber"], 16)  # first block past the cap
            suggestion = too_many_logs_error(self.style, first, max(first, over - 1), self.max_logs)
            return _error(call, suggestion)
        if failure is not None and isinstance(logs, list):
            self._break_log(logs, failure)
        return reply

    def _break_log(self, logs: list[dict[str, Any]], failure: _Failure) -> None:
        """Corrupt the first log; with no logs to corrupt, the failure waits for the next."""
        if not logs:
            with self._lock:
                self._failures.appendleft(failure)
            return
        self._count_rejected(failure.kind)
        if failure.kind == "log_missing_topics":
            logs[0].pop("topics", None)
        else:
            logs[0]["data"] = "0xnot-hex"

    def _count_rejected(self, cause: str) -> None:
        with self._lock:
            self.rejected[cause] += 1

    def _resolve_range(self, call: dict[str, Any]) -> tuple[int, int]:
        """(from, to) as numbers; tags resolve to the upstream head, ``blockHash`` to (0, 0)."""
        params = call.get("params") or [{}]
        spec = params[0] if isinstance(params[0], dict) else {}
        if spec.get("blockHash"):
            return 0, 0
        head: int | None = None

        def number(tag: Any) -> int:
            nonlocal head
            if isinstance(tag, str) and tag.startswith("0x"):
                return int(tag, 16)
            if tag == "earliest":
                return 0
            if head is None:
                head = int(self._upstream({"method": "eth_blockNumber", "params": []}), 16)
            return head

        return number(spec.get("fromBlock", "latest")), number(spec.get("toBlock", "latest"))

    def _upstream(self, call: dict[str, Any]) -> Any:
        reply = self._client.post(self.upstream, json={"jsonrpc": "2.0", "id": 1, **call})
        return reply.json()["result"]

    def _forward(self, call: dict[str, Any]) -> dict[str, Any]:
        reply = self._client.post(self.upstream, json=call)
        result = reply.json()
        return result if isinstance(result, dict) else {"id": call.get("id"), "result": result}


def _error(call: Any, error: dict[str, Any]) -> dict[str, Any]:
    call_id = call.get("id") if isinstance(call, dict) else None
    return {"jsonrpc": "2.0", "id": call_id, "error": error}


def _parse_error() -> dict[str, Any]:
    return {"code": -32700, "message": "Parse error"}
