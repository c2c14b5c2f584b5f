"""Waiting for a sent vote: its receipt, a replacement when it is stuck, and what landed.

Why it is careful: after the first send, every step must keep "one vote, at most one
transaction mined" true. All the transactions of one vote share one nonce, so at most one of
them can be mined; the first receipt among them is the answer. A transaction not mined after
``replace_after_s`` is replaced with fees raised by at least 12.5 % (up to
``max_replacements`` times, never past the fee cap), but only after ``has_voted`` says the
vote has not landed. If the nonce is used by a transaction that is none of ours, or the node
fails, or no receipt comes in time, the outcome is `CastOutcomeUnknown` with every hash sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from eth_account.datastructures import SignedTransaction
from pydantic import BaseModel, ConfigDict
from web3.exceptions import ContractLogicError

from agent.errors import (
    AlreadyVoted,
    CastOutcomeUnknown,
    FeeCapExceeded,
    SigningFailed,
    SourceError,
    VoteReverted,
)
from connectors.chain.rpc import ChainRpc
from connectors.chain.transactions import Fees, broadcast, hex_str, suggest_fees
from connectors.chain.vote_reads import GovernorVotes

log = logging.getLogger(__name__)


class CastReceipt(BaseModel):
    """The mined vote: which of the sent transactions landed, and how many replaced it."""

    model_config = ConfigDict(frozen=True)
    tx_hash: str
    block: int
    gas_used: int
    status: int
    replaced: int


@dataclass
class InFlight:
    """One vote's transactions: same nonce and call, rising fees."""

    proposal_id: int
    nonce: int
    data: str
    gas: int
    fees: Fees
    start_block: int
    hashes: list[str] = field(default_factory=list)
    replaced: int = 0
    may_replace: bool = True


@dataclass(frozen=True)
class WaitPolicy:
    """How long to wait, when and how often to replace, and the fee limits (wei per gas)."""

    receipt_timeout_s: float
    replace_after_s: float
    max_replacements: int
    poll_interval_s: float
    min_tip: int
    cap: int


class VoteWaiter:
    """Waits for one account's vote transactions; ``sign`` re-signs a flight at new fees."""

    def __init__(
        self,
        rpc: ChainRpc,
        reads: GovernorVotes,
        address: str,
        sign: Callable[[InFlight, Fees], SignedTransaction],
        policy: WaitPolicy,
        *,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
    ) -> None:
        self.rpc = rpc
        self.reads = reads
        self.address = address
        self._sign = sign
        self.policy = policy
        self._sleep = sleep
        self._clock = clock

    def wait(self, flight: InFlight, notify: Callable[[str], None]) -> CastReceipt:
        """The receipt of whichever of ``flight``'s transactions is mined (see the module)."""
        policy, start = self.policy, self._clock()
        deadline = start + policy.receipt_timeout_s
        next_replace = start + policy.replace_after_s
        try:
            while (receipt := self._mined(flight)) is None:
                now = self._clock()
                if now >= deadline:
                    raise CastOutcomeUnknown(
                        f"vote transaction(s) {', '.join(flight.hashes)} not mined within "
                        f"{policy.receipt_timeout_s:g} s; one may still be: check has_voted / "
                        "find_cast before sending again",
                        tx_hashes=tuple(flight.hashes),
                    )
                if self._nonce_used(flight.nonce):
                    receipt = self._landed(flight)
                elif now >= next_replace and self._may_replace(flight):
                    receipt = self._replace_unless_landed(flight, notify)
                    next_replace = now + policy.replace_after_s
                if receipt is not None:
                    return receipt
                self._sleep(policy.poll_interval_s)
            return receipt
        except (SourceError, ContractLogicError) as exc:
            raise CastOutcomeUnknown(
                f"the node failed after vote transaction(s) {', '.join(flight.hashes)} were "
                f"sent ({exc}); check has_voted / find_cast before sending again",
                tx_hashes=tuple(flight.hashes),
            ) from None

    def _replace_unless_landed(
        self, flight: InFlight, notify: Callable[[str], None]
    ) -> CastReceipt | None:
        # Never replace a vote that has landed (the original may just have been mined).
        if self.reads.has_voted(flight.proposal_id, self.address):
            return self._landed(flight)
        self._replace(flight, notify)
        return None

    def _may_replace(self, flight: InFlight) -> bool:
        return flight.may_replace and flight.replaced < self.policy.max_replacements

    def _landed(self, flight: InFlight) -> CastReceipt | None:
        """Our nonce is used or the vote counts: which transaction did it? None: not known yet.

        Raises AlreadyVoted when another transaction cast the vote, CastOutcomeUnknown when
        the nonce went to a transaction that is not ours and no vote counts.
        """
        receipt = self._mined(flight)
        if receipt is not None:
            return receipt
        if not self.reads.has_voted(flight.proposal_id, self.address):
            raise CastOutcomeUnknown(
                f"nonce {flight.nonce} of {self.address} was used by a transaction that is none "
                f"of {', '.join(flight.hashes)}, and no vote counts yet: check has_voted / "
                "find_cast before sending again",
                tx_hashes=tuple(flight.hashes),
            )
        flight.may_replace = False  # the vote counts: never send another transaction
        found = self.reads.find_cast(flight.proposal_id, self.address, flight.start_block)
        if found is None:
            return None  # the logs lag behind the state: look again on the next poll
        if found.lower() in (h.lower() for h in flight.hashes):
            return self._mined(flight)
        raise AlreadyVoted(
            f"{self.address}'s vote on proposal {flight.proposal_id} was cast by another "
            f"transaction, {found}",
            tx_hash=found,
        )

    def _replace(self, flight: InFlight, notify: Callable[[str], None]) -> None:
        try:
            fresh: Fees | None = suggest_fees(
                self.rpc, min_tip=self.policy.min_tip, cap=self.policy.cap
            )
        except FeeCapExceeded:
            fresh = None
        fees = flight.fees.bumped(fresh)
        if fees.max_fee > self.policy.cap:
            log.warning(
                "vote %s still pending; not replacing it: a bumped fee (%s) would pass the cap",
                flight.hashes[-1],
                fees.describe(),
            )
            flight.may_replace = False
            return
        try:
            signed = self._sign(flight, fees)
        except SigningFailed as exc:  # the original is out there: keep waiting for it
            log.warning("not replacing vote %s: %s", flight.hashes[-1], exc)
            flight.may_replace = False
            return
        outcome = broadcast(self.rpc, signed)
        flight.fees = fees  # even when refused ("underpriced"), the next bump starts here
        if outcome.kind not in ("sent", "unknown"):
            log.warning("replacement of vote %s refused: %s", flight.hashes[-1], outcome.detail)
            return
        tx_hash = hex_str(signed.hash)
        flight.hashes.append(tx_hash)
        flight.replaced += 1
        log.warning(
            "vote %s not mined after %g s; replaced by %s (%s)",
            flight.hashes[-2],
            self.policy.replace_after_s,
            tx_hash,
            fees.describe(),
        )
        notify(tx_hash)

    def _mined(self, flight: InFlight) -> CastReceipt | None:
        for tx_hash in flight.hashes:
            receipt = self.reads.receipt(tx_hash)
            if receipt is None:
                continue
            if int(receipt["status"]) != 1:
                raise VoteReverted(
                    f"vote transaction {tx_hash} was mined in block {receipt['blockNumber']} but "
                    "reverted; the vote was not recorded",
                    tx_hash=tx_hash,
                )
            return CastReceipt(
                tx_hash=tx_hash,
                block=int(receipt["blockNumber"]),
                gas_used=int(receipt["gasUsed"]),
                status=int(receipt["status"]),
                replaced=flight.replaced,
            )
        return None

    def _nonce_used(self, nonce: int) -> bool:
        return self.reads.nonce(self.address, "latest") > nonce
