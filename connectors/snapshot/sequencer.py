"""Send a signed vote envelope to the Snapshot sequencer, and say exactly what became of it.

A vote is money-like: the worst outcomes are sending it twice in different forms or
believing it failed when it landed. So every answer maps to one of four outcomes:

- a ``VoteReceipt``: recorded;
- ``VoteRejected`` (final: bad signature, no voting power, outside the voting window, …) or
  ``VoteAlreadyRecorded`` (this exact vote is already in);
- ``SequencerUnavailable``: every attempt failed *before* the sequencer could record anything
  (no connection, 429, 503), so sending again later is safe;
- ``OutcomeUnknown``: it may have landed (timeout or dropped connection after the request
  went out, 425 "already being processed", an unreadable 200). ``submit`` never resends in
  that case; the caller looks the vote up on the hub (``connectors.snapshot.reconcile``).

Other 5xx answers are retried with the *same* envelope: the sequencer refuses a message whose
id it already holds ("duplicate message"), so a resend cannot record a second vote. If such a
5xx is followed only by failures or state-dependent refusals, the result is ``OutcomeUnknown``.
Messages name the voter address and vote id, never the signature or any key.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any, Literal, Self

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from agent.errors import (
    OutcomeUnknown,
    SequencerUnavailable,
    VoteAlreadyRecorded,
    VoteRejected,
)
from connectors.snapshot.vote_signing import VoteEnvelope

log = logging.getLogger(__name__)

DEFAULT_SEQUENCER_URL = "https://seq.snapshot.org/"
RejectionKind = Literal[
    "signature",
    "no_voting_power",
    "voting_power_check_failed",
    "voting_window",
    "timestamp",
    "choice",
    "unknown_proposal",
    "superseded",
    "vote_validation",
    "alias",
    "envelope",
    "other",
]
_KINDS: dict[str, RejectionKind] = {
    "signature validation failed": "signature",
    "no voting power": "no_voting_power",
    "failed to check voting power": "voting_power_check_failed",
    "not in voting window": "voting_window",
    "proposal is closed": "voting_window",
    "wrong timestamp": "timestamp",
    "invalid timestamp": "timestamp",
    "invalid choice": "choice",
    "wrong vote format": "choice",
    "unknown proposal": "unknown_proposal",
    "unknown space": "unknown_proposal",
    "already voted at later time": "superseded",
    "already voted same time with lower index": "superseded",
    "failed vote validation": "vote_validation",
    "failed to check vote validation": "vote_validation",
    "wrong alias": "alias",
    "alias not enabled": "alias",
    "wrong from": "alias",
    "wrong envelope format": "envelope",
    "wrong types": "envelope",
    "wrong domain": "envelope",
    "too large message": "envelope",
    "too large metadata": "envelope",
}
_SAME_FOR_ANY_ATTEMPT = {"signature", "choice", "alias", "envelope"}
"""Refusals that depend only on the envelope: an earlier attempt got the same answer."""
_DUPLICATE = "duplicate message"


class Relayer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    address: str
    receipt: str


class VoteReceipt(BaseModel):
    """The sequencer's proof that it recorded the vote; ``id`` is the EIP-712 hash."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    id: str
    ipfs: str
    relayer: Relayer


class _TryAgain(Exception):
    """A failure after which resending the same envelope is safe."""

    def __init__(self, why: str, *, maybe_recorded: bool, retry_after: float | None = None):
        super().__init__(why)
        self.maybe_recorded = maybe_recorded
        self.retry_after = retry_after


class SequencerClient:
    """POSTs vote envelopes to one sequencer URL; see the module docstring for outcomes."""

    def __init__(
        self,
        url: str = DEFAULT_SEQUENCER_URL,
        *,
        timeout: float = 30.0,
        max_attempts: int = 4,
        backoff_max: float = 30.0,
        retry_after_max: float = 120.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        headers = {
            "accept": "application/json",
            "content-type": "application/json",
            "user-agent": "dao-steward/0.1",
        }
        self.url = url
        parsed = httpx.URL(url)
        self._where = f"{parsed.scheme}://{parsed.netloc.decode()}"  # no path/query in messages
        # A fresh connection per request: a connection cut then means the server cut it after
        # our request, never a stale keep-alive, so OutcomeUnknown is not raised for nothing.
        self._http = httpx.Client(
            timeout=timeout,
            headers=headers,
            transport=transport,
            limits=httpx.Limits(max_keepalive_connections=0),
        )
        self._max_attempts = max(1, max_attempts)
        self._backoff = wait_exponential_jitter(initial=1, max=backoff_max)
        self._retry_after_max = retry_after_max
        self._sleep = sleep
        self.attempts = 0

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submit(self, envelope: VoteEnvelope) -> VoteReceipt:
        """Send ``envelope``; retry only where resending is safe; raise a ``VoteError``."""
        vote_id = envelope.vote_id
        body = json.dumps(envelope.payload(), ensure_ascii=False, separators=(",", ":"))
        what = f"vote {vote_id} by {envelope.address}"
        ambiguous: list[str] = []

        def once() -> VoteReceipt:
            try:
                return self._once(body.encode("utf-8"), what, vote_id)
            except _TryAgain as exc:
                if exc.maybe_recorded:
                    ambiguous.append(str(exc))
                log.warning("sequencer: %s not accepted yet: %s", what, exc)
                raise
            except VoteRejected as exc:
                if ambiguous and exc.kind not in _SAME_FOR_ANY_ATTEMPT:
                    raise OutcomeUnknown(
                        f"the sequencer may have recorded {what} ({ambiguous[0]}), then "
                        f"answered {exc.description!r}; check the hub before sending it again",
                        vote_id=vote_id,
                    ) from None
                raise

        retrying = Retrying(
            stop=stop_after_attempt(self._max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_TryAgain),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return retrying(once)
        except _TryAgain as exc:
            tries = f"{self._max_attempts} attempt(s)"
            if ambiguous:
                raise OutcomeUnknown(
                    f"the sequencer may have recorded {what} ({ambiguous[0]}) and then failed "
                    f"{tries}, last: {exc}; check the hub before sending it again",
                    vote_id=vote_id,
                ) from None
            raise SequencerUnavailable(
                f"the sequencer at {self._where} did not take {what} after {tries}: {exc}",
                retry_after=exc.retry_after,
            ) from None

    def _wait(self, state: RetryCallState) -> float:
        backoff = float(self._backoff(state))
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _TryAgain) and exc.retry_after is not None:
            return min(max(exc.retry_after, backoff), self._retry_after_max)
        return backoff

    def _once(self, body: bytes, what: str, vote_id: str) -> VoteReceipt:
        self.attempts += 1
        try:
            response = self._http.post(self.url, content=body)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise _TryAgain(
                f"could not connect ({type(exc).__name__})", maybe_recorded=False
            ) from None
        except httpx.TransportError as exc:  # sent, then timed out or cut off: may have landed
            raise OutcomeUnknown(
                f"the sequencer at {self._where} did not answer for {what} ({type(exc).__name__}); "
                "it may have recorded it: check the hub before sending it again",
                vote_id=vote_id,
            ) from None
        return _outcome(response, what, vote_id)


def _outcome(response: httpx.Response, what: str, vote_id: str) -> VoteReceipt:
    status = response.status_code
    if 200 <= status < 300:
        return _receipt(response, what, vote_id)
    if status == 429:
        raise _TryAgain("HTTP 429", maybe_recorded=False, retry_after=_retry_after(response))
    if status == 425:
        raise OutcomeUnknown(
            f"the sequencer is still processing an identical request for {what}; "
            "check the hub before sending it again",
            vote_id=vote_id,
        )
    description = _description(response)
    if status == 503:
        raise _TryAgain(
            f"HTTP 503 {description}".strip(),
            maybe_recorded=False,
            retry_after=_retry_after(response),
        )
    if status >= 500:
        raise _TryAgain(
            f"HTTP {status} {description}".strip(),
            maybe_recorded=True,
            retry_after=_retry_after(response),
        )
    if description == _DUPLICATE:
        raise VoteAlreadyRecorded(
            f"the sequencer already has {what}; it counts and nothing changed", vote_id=vote_id
        )
    kind = _KINDS.get(description, "other")
    shown = description or f"HTTP {status}"
    raise VoteRejected(
        f"the sequencer refused {what}: {shown}", kind=kind, description=description, status=status
    )


def _receipt(response: httpx.Response, what: str, vote_id: str) -> VoteReceipt:
    try:
        receipt = VoteReceipt.model_validate(response.json())
    except (ValueError, ValidationError):
        raise OutcomeUnknown(
            f"the sequencer answered HTTP {response.status_code} for {what} in a form Steward "
            "cannot read; check the hub to see whether it was recorded",
            vote_id=vote_id,
        ) from None
    if receipt.id.lower() != vote_id.lower():
        log.warning("sequencer: receipt id %s differs from the local id of %s", receipt.id, what)
    log.info("sequencer: recorded %s (ipfs %s)", what, receipt.ipfs)
    return receipt


def _description(response: httpx.Response) -> str:
    """``error_description`` of ``{error, error_description}``; empty when absent."""
    try:
        payload: Any = response.json()
    except ValueError:
        return ""
    text = payload.get("error_description") if isinstance(payload, dict) else None
    return text.strip()[:300] if isinstance(text, str) else ""


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None
