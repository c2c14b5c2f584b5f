"""HTTP client for the Snapshot hub: rate-limited, retried, and strict about answers.

Retries (with backoff, honouring Retry-After) cover what the hub does under
load: 429, 5xx, timeouts, dropped connections, an HTML error page where JSON
was due. A GraphQL validation error (our query is wrong) is not retried.
The API key travels only in a header and is never part of an error message.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from agent.errors import MalformedResponse, RateLimited, SourceError, SourceUnavailable
from agent.observe import NullObserver, RequestObserver
from agent.settings import SnapshotSettings
from connectors.ratelimit import RateLimiter

TARGET = "snapshot_hub"
"""How requests to the hub are labelled for an observer (the URL may carry nothing secret
today, but a label never should)."""


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None, status: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


class HubClient:
    """POSTs GraphQL queries to the hub and returns the `data` object."""

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        timeout: float = 20.0,
        requests_per_minute: int = 90,
        max_retries: int = 6,
        backoff_max: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        observer: RequestObserver | None = None,
    ) -> None:
        headers = {
            "content-type": "application/json",
            "accept": "application/json",
            "user-agent": "dao-steward/0.1",
        }
        if api_key:
            headers["x-api-key"] = api_key
        self.url = url
        self._http = httpx.Client(timeout=timeout, headers=headers, transport=transport)
        self._limiter = RateLimiter(requests_per_minute, sleep=sleep)
        self._sleep = sleep
        self._max_retries = max_retries
        self._backoff = wait_exponential_jitter(multiplier=0.5, max=backoff_max)
        self.requests = 0
        self.retries = 0
        self._observer: RequestObserver = observer or NullObserver()

    @classmethod
    def from_settings(
        cls, cfg: SnapshotSettings, *, observer: RequestObserver | None = None
    ) -> HubClient:
        return cls(
            cfg.hub_url,
            api_key=cfg.api_key.get_secret_value() if cfg.api_key else None,
            timeout=cfg.timeout_s,
            requests_per_minute=cfg.requests_per_minute,
            max_retries=cfg.max_retries,
            backoff_max=cfg.backoff_max_s,
            observer=observer,
        )

    def close(self) -> None:
        self._http.close()

    def query(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run one query; retried on transient failures, then a SourceError."""
        retrying = Retrying(
            stop=stop_after_attempt(self._max_retries + 1),
            wait=self._wait,
            retry=retry_if_exception_type(_Retryable),
            sleep=self._sleep,
            before_sleep=self._count_retry,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._once(query, variables or {})
        except _Retryable as exc:
            attempts = self._max_retries + 1
            if exc.status == 429:
                raise RateLimited(
                    f"the Snapshot hub kept rate-limiting us after {attempts} attempts; "
                    "try again later or configure snapshot.api_key"
                ) from None
            raise SourceUnavailable(
                f"the Snapshot hub at {self.url} failed {attempts} times: {exc}"
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, state: RetryCallState) -> float:
        backoff = self._backoff(state)
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return max(exc.retry_after, backoff)
        return backoff

    def _count_retry(self, _state: RetryCallState) -> None:
        self.retries += 1
        self._observer.retry(TARGET)

    def _once(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        self._limiter.acquire()
        self.requests += 1
        self._observer.request(TARGET)
        try:
            response = self._http.post(self.url, json={"query": query, "variables": variables})
        except httpx.TimeoutException:
            raise _Retryable("timed out") from None
        except httpx.TransportError as exc:
            raise _Retryable(f"connection failed ({exc.__class__.__name__})") from None
        status = response.status_code
        if status == 429:
            raise _Retryable("HTTP 429", _retry_after(response), status)
        if status >= 500:
            raise _Retryable(f"HTTP {status}", _retry_after(response), status)
        try:
            payload = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            if status >= 400:
                raise SourceError(f"the Snapshot hub refused the query (HTTP {status})") from None
            raise _Retryable(f"HTTP {status} with a body that is not JSON") from None
        return _data(payload, status)


def _data(payload: Any, status: int) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise MalformedResponse("the Snapshot hub answered with JSON that is not an object")
    errors = payload.get("errors")
    if errors:
        messages = "; ".join(
            str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors
        )[:500]
        if status >= 400:
            raise SourceError(f"the Snapshot hub rejected the query: {messages}")
        raise _Retryable(f"GraphQL error: {messages}")
    if status >= 400:
        raise SourceError(f"the Snapshot hub refused the query (HTTP {status})")
    data = payload.get("data")
    if not isinstance(data, dict):
        raise MalformedResponse("the Snapshot hub's answer has no `data` object")
    return data


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None
