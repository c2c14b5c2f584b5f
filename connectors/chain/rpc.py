"""ChainRpc: the JSON-RPC calls the chain source makes, with retries and no leaked URL.

Providers fail in many ways: 429s, 5xx, timeouts, garbage bodies, "header not
found" while a node catches up, and range limits on eth_getLogs. Transient
failures are retried here with backoff (honouring Retry-After); range limits
are raised as `RangeTooLarge` for the log scanner to shrink its window;
contract reverts pass straight through. Provider URLs often carry an API key,
so no message, log record or exception chain from here contains the URL.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from pydantic import BaseModel, ConfigDict
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from web3 import Web3
from web3.exceptions import (
    BadResponseFormat,
    BlockNotFound,
    ContractLogicError,
    ProviderConnectionError,
    TooManyRequests,
    Web3RPCError,
)
from web3.providers.rpc import HTTPProvider
from web3.types import RPCEndpoint

from agent.errors import MalformedResponse, RateLimited, SourceError, SourceUnavailable
from agent.observe import NullObserver, RequestObserver
from agent.settings import ChainSettings

T = TypeVar("T")

_WEB3_URL_LOGGERS = (
    "web3.providers.HTTPProvider",
    "web3._utils.http_session_manager.HTTPSessionManager",
)
# What providers answer when an eth_getLogs range (or its result) is too large.
_RANGE_ERROR = re.compile(
    r"block range|range (is )?too (large|wide|big)|more than \d+ (results|logs|blocks)|"
    r"query returned more than|response size (exceeded|is larger)|too many (results|logs|blocks)|"
    r"limit exceeded|exceed(s|ed)? (the )?(max|maximum)|range limit|blocks? range",
    re.IGNORECASE,
)
_TRANSIENT_RPC = re.compile(
    r"header not found|timeout|timed out|try again|temporarily|busy|overloaded|"
    r"rate limit|too many requests|capacity|unavailable|internal error",
    re.IGNORECASE,
)


class RangeTooLarge(SourceError):
    """The provider refused an eth_getLogs range; the scanner retries a smaller one."""


class BlockInfo(BaseModel):
    model_config = ConfigDict(frozen=True)
    number: int
    hash: str
    parent_hash: str
    timestamp: int


class _Transient(Exception):
    """A failure worth retrying; carries how long the provider asked us to wait."""

    def __init__(self, what: str, retry_after: float | None = None) -> None:
        super().__init__(what)
        self.what = what
        self.retry_after = retry_after


class _RedactURL(logging.Filter):
    """web3 logs the endpoint URI at debug level; an API key must not reach a log."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(
                "<rpc url>" if isinstance(a, str) and self.secret in a else a for a in args
            )
        if isinstance(record.msg, str) and self.secret in record.msg:
            record.msg = record.msg.replace(self.secret, "<rpc url>")
        return True


class ChainRpc:
    """Retrying access to one chain's node. Build with `connect` or `from_web3` (tests)."""

    def __init__(
        self,
        w3: Web3,
        *,
        label: str,
        secret: str | None = None,
        max_retries: int = 6,
        backoff_max: float = 30.0,
        requests_per_second: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        observer: RequestObserver | None = None,
        target: str | None = None,
    ) -> None:
        self.w3 = w3
        self.label = label
        self._secret = secret
        self._retries = max_retries
        self._backoff_max = backoff_max
        self._interval = 1.0 / requests_per_second if requests_per_second else 0.0
        self._last = 0.0
        self._sleep = sleep
        self.requests = 0
        self.retries = 0
        self._observer: RequestObserver = observer or NullObserver()
        self._target = target or "rpc"
        """The observer's label: `rpc:<chain name>`, never the URL (it often holds a key)."""

    @classmethod
    def connect(cls, url: str, *, label: str, timeout: float = 20.0, **kwargs: Any) -> ChainRpc:
        provider = HTTPProvider(
            url,
            request_kwargs={"timeout": timeout},
            exception_retry_configuration=None,
            # web3 asks eth_chainId before every eth_call (12k of 18k requests in the bench);
            # the chain id cannot change under one provider. Nothing else is cached: block
            # hashes must be fresh to notice a reorg.
            cache_allowed_requests=True,
            cacheable_requests={RPCEndpoint("eth_chainId")},
        )
        redactor = _RedactURL(url)
        for name in _WEB3_URL_LOGGERS:
            logger = logging.getLogger(name)
            if not any(isinstance(f, _RedactURL) and f.secret == url for f in logger.filters):
                logger.addFilter(redactor)
        return cls(Web3(provider), label=label, secret=url, **kwargs)

    @classmethod
    def from_settings(
        cls, cfg: ChainSettings, *, observer: RequestObserver | None = None
    ) -> ChainRpc:
        return cls.connect(
            cfg.url(),
            label=f"chain {cfg.name}",
            timeout=cfg.timeout_s,
            max_retries=cfg.max_retries,
            backoff_max=cfg.backoff_max_s,
            requests_per_second=cfg.requests_per_second,
            observer=observer,
            target=f"rpc:{cfg.name}",
        )

    @classmethod
    def from_web3(cls, w3: Web3, *, label: str = "local", **kwargs: Any) -> ChainRpc:
        return cls(w3, label=label, **kwargs)

    # ---- calls ------------------------------------------------------------
    def chain_id(self) -> int:
        return int(self.call("eth_chainId", lambda: self.w3.eth.chain_id))

    def block_number(self) -> int:
        return int(self.call("eth_blockNumber", lambda: self.w3.eth.block_number))

    def block(self, number: int) -> BlockInfo | None:
        """The canonical block at `number`, or None when the chain is shorter."""

        def fetch() -> BlockInfo | None:
            try:
                raw = self.w3.eth.get_block(number)
            except BlockNotFound:
                return None
            return BlockInfo(
                number=int(raw["number"]),
                hash=bytes(raw["hash"]).hex(),
                parent_hash=bytes(raw["parentHash"]).hex(),
                timestamp=int(raw["timestamp"]),
            )

        return self.call(f"eth_getBlockByNumber({number})", fetch)

    def get_logs(
        self, address: str, topics: list[str], from_block: int, to_block: int
    ) -> list[Any]:
        params: Any = {
            "address": Web3.to_checksum_address(address),
            "fromBlock": from_block,
            "toBlock": to_block,
            "topics": [topics],
        }
        what = f"eth_getLogs({from_block}..{to_block})"
        try:
            return list(self.call(what, lambda: self.w3.eth.get_logs(params), range_query=True))
        except MalformedResponse as exc:
            raise MalformedResponse(f"{exc}{self._which_log(params)}") from None

    def _which_log(self, params: dict[str, Any]) -> str:
        """web3 refuses a malformed log without saying which: find it in the raw answer."""
        raw_params = {
            **params,
            "fromBlock": hex(params["fromBlock"]),
            "toBlock": hex(params["toBlock"]),
        }
        try:
            response = self.w3.provider.make_request(RPCEndpoint("eth_getLogs"), [raw_params])
        except Exception:  # noqa: BLE001 - only a diagnosis; the original error stands
            return ""
        for log in (response.get("result") or []) if isinstance(response, dict) else []:
            problem = _log_problem(log)
            if problem:
                block = log.get("blockNumber") if isinstance(log, dict) else None
                tx = log.get("transactionHash") if isinstance(log, dict) else None
                number = (
                    int(block, 16) if isinstance(block, str) and block.startswith("0x") else block
                )
                return f" (the log in block {number}, transaction {tx}: {problem})"
        return " (read again, the same range came back well-formed: an unreliable provider)"

    def call(self, what: str, fn: Callable[[], T], *, range_query: bool = False) -> T:
        """Run one request; transient failures are retried, then reported without the URL."""

        def attempt() -> T:
            self._pace()
            self.requests += 1
            self._observer.request(self._target)
            try:
                return fn()
            except ContractLogicError:
                raise
            except Exception as exc:  # noqa: BLE001 - classified just below
                if type(exc).__name__ == "TransactionFailed":
                    # eth-tester's revert; every other backend raises ContractLogicError.
                    raise ContractLogicError(_short(exc)) from None
                raise self._classify(what, exc, range_query) from None

        retrying = Retrying(
            stop=stop_after_attempt(self._retries + 1),
            retry=retry_if_exception(lambda e: isinstance(e, _Transient)),
            wait=self._wait,
            sleep=self._sleep,
            before_sleep=self._count_retry,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _Transient as exc:
            message = (
                f"{self.label}: {exc.what} kept failing after {self._retries + 1} tries "
                f"({exc.args[0] if exc.args else 'no detail'})"
            )
            if "429" in message or "rate" in message.lower():
                raise RateLimited(self._redact(message)) from None
            raise SourceUnavailable(self._redact(message)) from None

    # ---- internals --------------------------------------------------------
    def _pace(self) -> None:
        if self._interval:
            wait = self._last + self._interval - time.monotonic()
            if wait > 0:
                self._sleep(wait)
            self._last = time.monotonic()

    def _count_retry(self, _state: RetryCallState) -> None:
        self.retries += 1
        self._observer.retry(self._target)

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Transient) and exc.retry_after is not None:
            return min(exc.retry_after, self._backoff_max)
        return float(min(0.25 * 2 ** (state.attempt_number - 1), self._backoff_max))

    def _classify(self, what: str, exc: Exception, range_query: bool) -> Exception:
        detail = self._redact(_describe(exc))
        if (
            isinstance(exc, Web3RPCError | ValueError)
            and range_query
            and _RANGE_ERROR.search(detail)
        ):
            return RangeTooLarge(f"{self.label}: {what}: {detail}")
        if isinstance(exc, requests.HTTPError):
            status = exc.response.status_code if exc.response is not None else 0
            if status == 429 or status >= 500:
                return _Transient(f"{what}: HTTP {status}", _retry_after(exc.response))
            return SourceError(f"{self.label}: {what} was refused: HTTP {status}")
        if isinstance(
            exc,
            requests.Timeout
            | requests.ConnectionError
            | TooManyRequests
            | ProviderConnectionError
            | BadResponseFormat
            | requests.exceptions.JSONDecodeError,
        ):
            return _Transient(what + f": {detail}")
        if isinstance(exc, ValueError) and "Could not format" in detail:
            return MalformedResponse(f"{self.label}: {what}: the node answered malformed data")
        if isinstance(exc, Web3RPCError) and _TRANSIENT_RPC.search(detail):
            return _Transient(what + f": {detail}")
        if isinstance(exc, ValueError) and "JSON" in detail:
            return _Transient(what + f": {detail}")
        return SourceError(f"{self.label}: {what} failed: {detail}")

    def _redact(self, text: str) -> str:
        if self._secret:
            text = text.replace(self._secret, "<rpc url>")
        return re.sub(r"https?://\S+", "<url>", text)


def _describe(exc: Exception) -> str:
    if isinstance(exc, Web3RPCError):
        response = exc.rpc_response or {}
        error = response.get("error") if isinstance(response, dict) else None
        if isinstance(error, dict):
            return f"{error.get('message', '')} (code {error.get('code')})"
        return str(exc.message)
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code}"
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text[:300]}"


_HEX = re.compile(r"^0x[0-9a-fA-F]*$")


def _log_problem(log: Any) -> str | None:
    """What is wrong with one raw JSON-RPC log object, or None."""
    if not isinstance(log, dict):
        return "not an object"
    for field in ("address", "data", "blockNumber", "transactionHash", "logIndex"):
        value = log.get(field)
        if not isinstance(value, str) or not _HEX.match(value):
            return f"field {field} is {str(value)[:40]!r}"
    topics = log.get("topics")
    if not isinstance(topics, list) or not topics:
        return "no topics"
    if any(not isinstance(t, str) or not _HEX.match(t) or len(t) != 66 for t in topics):
        return "a topic is not 32 bytes of hex"
    return None


def _short(exc: Exception) -> str:
    return (str(exc) or type(exc).__name__).splitlines()[0][:300]


def _retry_after(response: requests.Response | None) -> float | None:
    if response is None:
        return None
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
