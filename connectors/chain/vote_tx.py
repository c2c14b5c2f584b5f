"""ChainVoter: cast one delegate's vote on an OpenZeppelin Governor or GovernorBravo.

Built like a wallet, because a wrong, doubled or lost vote is the worst thing Steward can do:

- Before signing: the node is the configured chain, the signer has not voted yet, the
  proposal is Active, and the call does not revert (gas estimate, or a dry run when the gas
  limit is fixed). Any refusal here means nothing was signed or sent.
- Fees come from `eth_feeHistory` and never exceed the cap (connectors/chain/transactions.py).
- The transaction is signed locally by a `TxSigner` (an eth-account ``LocalAccount`` is
  one; no function here sees a key) and the signature must recover to the signer.
- ``on_sent(tx_hash)`` runs right after every send, before any waiting, so the caller can
  record the hash first; after a crash `has_voted` and `find_cast` reconcile.
- A transaction stuck past ``replace_after_s`` is re-sent with the same nonce and higher
  fees, never after the vote has landed; the first of the hashes to be mined is the answer
  (connectors/chain/vote_wait.py).
- Every error is a `VoteError` saying whether the vote may have been recorded.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from eth_account.datastructures import SignedTransaction
from web3 import Web3
from web3.exceptions import ContractLogicError

from agent.errors import (
    AlreadyVoted,
    CastOutcomeUnknown,
    ConfigError,
    InvalidVote,
    NodeUnavailable,
    ProposalNotActive,
    SourceError,
    TransactionRefused,
)
from connectors.chain.governor import GovernorKind
from connectors.chain.rpc import ChainRpc
from connectors.chain.transactions import (
    Broadcast,
    Fees,
    TxSigner,
    broadcast,
    describe_revert,
    hex_str,
    revert_safe,
    sign_checked,
    suggest_fees,
    to_wei,
)
from connectors.chain.vote_reads import GovernorVotes
from connectors.chain.vote_wait import CastReceipt, InFlight, VoteWaiter, WaitPolicy

__all__ = ["SUPPORT_NAMES", "CastReceipt", "ChainVoter", "TxSigner"]
log = logging.getLogger(__name__)

SUPPORT_NAMES = {0: "against", 1: "for", 2: "abstain"}
UINT256_MAX = 2**256 - 1


class ChainVoter:
    """Casts votes from ``signer`` on one governor through ``rpc``.

    ``chain_id`` is checked against the node before every signature. ``priority_fee_gwei``
    is the least tip offered and ``max_fee_gwei_cap`` the most ever paid per gas.
    ``gas_limit`` fixes the gas (a dry run still checks the call); otherwise the estimate
    times ``gas_margin``. ``sleep`` and ``clock`` are injectable for tests.
    """

    def __init__(
        self,
        rpc: ChainRpc,
        governor_address: str,
        kind: GovernorKind,
        signer: TxSigner,
        *,
        chain_id: int,
        max_fee_gwei_cap: float,
        priority_fee_gwei: float,
        receipt_timeout_s: float = 600.0,
        replace_after_s: float = 120.0,
        max_replacements: int = 3,
        gas_limit: int | None = None,
        gas_margin: float = 1.25,
        poll_interval_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(signer, str | bytes | bytearray) or not hasattr(signer, "sign_transaction"):
            raise ConfigError("ChainVoter takes a signer (e.g. a LocalAccount), never a raw key")
        if kind not in ("oz", "bravo"):
            raise ConfigError(f"governor kind must be 'oz' or 'bravo', not {kind!r}")
        if not 0 <= priority_fee_gwei <= max_fee_gwei_cap or max_fee_gwei_cap <= 0:
            raise ConfigError("fees: need 0 <= priority_fee_gwei <= max_fee_gwei_cap, cap > 0")
        if receipt_timeout_s <= 0 or replace_after_s <= 0 or max_replacements < 0:
            raise ConfigError("receipt_timeout_s and replace_after_s must be > 0, retries >= 0")
        self.rpc = rpc
        self.kind: GovernorKind = kind
        self.signer = signer
        self.address = Web3.to_checksum_address(signer.address)
        self.reads = GovernorVotes(rpc, governor_address, kind, caller=self.address)
        self.governor = self.reads.address
        self.chain_id = chain_id
        self.gas_limit = gas_limit
        self.gas_margin = gas_margin
        self.policy = WaitPolicy(
            receipt_timeout_s=receipt_timeout_s,
            replace_after_s=replace_after_s,
            max_replacements=max_replacements,
            poll_interval_s=poll_interval_s,
            min_tip=to_wei(priority_fee_gwei),
            cap=to_wei(max_fee_gwei_cap),
        )
        self.waiter = VoteWaiter(
            rpc, self.reads, self.address, self._sign, self.policy, sleep=sleep, clock=clock
        )

    # ---- reads (public: also for reconciliation after a crash) -----------------------
    def has_voted(self, proposal_id: int, voter: str) -> bool:
        """Whether the governor counts a vote by ``voter`` on the proposal, at latest."""
        with self._nothing_sent("has_voted", casting=False):
            return self.reads.has_voted(proposal_id, voter)

    def vote_state(self, proposal_id: int) -> str:
        """pending, active, canceled, defeated, … at latest; ``unknown`` if no such proposal."""
        with self._nothing_sent("state", casting=False):
            return self.reads.state(proposal_id)

    def find_cast(self, proposal_id: int, voter: str, from_block: int) -> str | None:
        """The hash of the transaction whose VoteCast log records ``voter`` on the proposal,
        searching ``from_block`` to the head; None if there is none (yet)."""
        with self._nothing_sent("find_cast", casting=False):
            return self.reads.find_cast(proposal_id, voter, from_block)

    # ---- cast --------------------------------------------------------------------------
    def cast(
        self,
        proposal_id: int,
        support: int,
        reason: str = "",
        params: bytes | None = None,
        *,
        on_sent: Callable[[str], None] | None = None,
    ) -> CastReceipt:
        """Vote ``support`` (0 against, 1 for, 2 abstain) with ``reason``; see the module."""
        notify = on_sent or (lambda _hash: None)
        self._check_request(proposal_id, support, reason, params)
        with _one_vote_at_a_time(self.address):
            with self._nothing_sent("preparing the vote"):
                flight = self._prepare(proposal_id, support, reason, params)
            signed = self._sign(flight, flight.fees)
            self._send_first(flight, signed, notify)
            return self.waiter.wait(flight, notify)

    def _check_request(
        self, proposal_id: int, support: int, reason: str, params: bytes | None
    ) -> None:
        if not isinstance(proposal_id, int) or not 0 <= proposal_id <= UINT256_MAX:
            raise InvalidVote(f"proposal id {proposal_id!r} is not a uint256")
        if isinstance(support, bool) or support not in SUPPORT_NAMES:
            raise InvalidVote(
                f"support must be 0 (against), 1 (for) or 2 (abstain), not {support!r}"
            )
        if not isinstance(reason, str):
            raise InvalidVote("the reason must be text")
        if params is not None and (self.kind != "oz" or not isinstance(params, bytes)):
            raise InvalidVote("vote params (bytes) exist only on OpenZeppelin governors")

    def _prepare(
        self, proposal_id: int, support: int, reason: str, params: bytes | None
    ) -> InFlight:
        """Every check that must pass before signing, then gas, fees and nonce."""
        node_chain = self.rpc.chain_id()
        if node_chain != self.chain_id:
            raise InvalidVote(
                f"{self.rpc.label}: the node serves chain {node_chain}, the voter is set up for "
                f"chain {self.chain_id}; nothing was signed"
            )
        start_block = self.rpc.block_number()
        if self.reads.has_voted(proposal_id, self.address):
            raise AlreadyVoted(
                f"{self.address} has already voted on proposal {proposal_id} at {self.governor}; "
                "nothing was sent"
            )
        state = self.reads.state(proposal_id)
        if state != "active":
            raise ProposalNotActive(
                f"proposal {proposal_id} at {self.governor} is {state}, not active; "
                "nothing was sent",
                state=state,
            )
        contract, args = self.reads.contract, [proposal_id, support, reason]
        if params is None:
            data = contract.encode_abi("castVoteWithReason", args=args)
        else:
            data = contract.encode_abi("castVoteWithReasonAndParams", args=[*args, params])
        nonce = self._free_nonce(proposal_id)
        gas = self._gas(proposal_id, data)
        fees = suggest_fees(self.rpc, min_tip=self.policy.min_tip, cap=self.policy.cap)
        return InFlight(proposal_id, nonce, data, gas, fees, start_block)

    def _free_nonce(self, proposal_id: int) -> int:
        """The next nonce, refusing while this account has transactions in the pool: one may
        be this very vote, sent before a crash (``find_cast`` tells once it is mined)."""
        mined = self.reads.nonce(self.address, "latest")
        pending = self.reads.nonce(self.address, "pending")
        if pending > mined:
            raise TransactionRefused(
                f"{self.address} has {pending - mined} transaction(s) pending; one may be a vote "
                f"on proposal {proposal_id} sent earlier. Nothing was sent: try again once they "
                "are mined (has_voted / find_cast show whether the vote landed)"
            )
        return mined

    def _gas(self, proposal_id: int, data: str) -> int:
        """The estimate with a margin, or a dry run when the limit is fixed; reverts refuse."""
        call: Any = {"from": self.address, "to": self.governor, "data": data}
        try:
            if self.gas_limit is not None:
                self.rpc.call("eth_call(vote)", revert_safe(lambda: self.rpc.w3.eth.call(call)))
                return self.gas_limit
            estimate = self.rpc.call(
                "eth_estimateGas(vote)", revert_safe(lambda: self.rpc.w3.eth.estimate_gas(call))
            )
        except ContractLogicError as exc:
            raise self._refusal(proposal_id, describe_revert(exc)) from None
        return int(int(estimate) * self.gas_margin)

    def _refusal(self, proposal_id: int, reason: str) -> InvalidVote | AlreadyVoted:
        where = f"proposal {proposal_id} at {self.governor}"
        if "AlreadyCastVote" in reason or "already voted" in reason:
            return AlreadyVoted(f"{self.address} has already voted on {where}; nothing was sent")
        if "UnexpectedProposalState" in reason or "voting is closed" in reason:
            state = self.reads.state(proposal_id)
            message = f"{where} is {state}, not active; nothing was sent"
            return ProposalNotActive(message, state=state)
        return InvalidVote(f"the vote on {where} would revert ({reason}); nothing was sent")

    # ---- signing and sending ----------------------------------------------------------
    def _sign(self, flight: InFlight, fees: Fees) -> SignedTransaction:
        tx = {
            "type": 2,
            "chainId": self.chain_id,
            "nonce": flight.nonce,
            "to": self.governor,
            "value": 0,
            "data": flight.data,
            "gas": flight.gas,
            "maxFeePerGas": fees.max_fee,
            "maxPriorityFeePerGas": fees.priority_fee,
        }
        return sign_checked(self.signer, tx, self.address)

    def _send_first(
        self, flight: InFlight, signed: SignedTransaction, notify: Callable[[str], None]
    ) -> None:
        tx_hash = hex_str(signed.hash)
        outcome = broadcast(self.rpc, signed)
        if outcome.kind == "unknown":
            notify(tx_hash)
            raise CastOutcomeUnknown(
                f"{self.rpc.label}: the node stopped answering while vote transaction "
                f"{tx_hash} was sent ({outcome.detail}); it may still be mined",
                tx_hashes=(tx_hash,),
            )
        if outcome.kind != "sent":
            raise self._first_send_refused(flight, outcome)
        flight.hashes.append(tx_hash)
        log.info(
            "sent vote on %s by %s: %s (nonce %d, %s)",
            flight.proposal_id,
            self.address,
            tx_hash,
            flight.nonce,
            flight.fees.describe(),
        )
        notify(tx_hash)

    def _first_send_refused(self, flight: InFlight, outcome: Broadcast) -> Exception:
        if outcome.kind == "nonce_used":
            with self._nothing_sent("has_voted"):
                voted = self.reads.has_voted(flight.proposal_id, self.address)
            if voted:
                return AlreadyVoted(
                    f"{self.address} voted on proposal {flight.proposal_id} meanwhile, from "
                    "another transaction; nothing was sent"
                )
            return TransactionRefused(
                f"{self.rpc.label}: nonce {flight.nonce} of {self.address} was used meanwhile by "
                "another transaction; the vote was not sent (try again)"
            )
        return TransactionRefused(
            f"{self.rpc.label}: the node refused the vote transaction ({outcome.detail}); "
            "nothing was broadcast"
        )

    @contextmanager
    def _nothing_sent(self, what: str, *, casting: bool = True) -> Iterator[None]:
        """Node failures before anything was sent: the vote can simply be tried again."""
        try:
            yield
        except SourceError as exc:
            suffix = "; nothing was sent" if casting else ""
            raise NodeUnavailable(f"{what}: {exc}{suffix}") from None
        except ContractLogicError as exc:
            raise InvalidVote(
                f"governor {self.governor} refused {what}: {describe_revert(exc)}"
            ) from None


_ACCOUNT_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@contextmanager
def _one_vote_at_a_time(address: str) -> Iterator[None]:
    """One vote in flight per account in this process: two would race for one nonce (voters
    on different governors share the delegate's account)."""
    with _LOCKS_GUARD:
        lock = _ACCOUNT_LOCKS.setdefault(address, threading.Lock())
    if not lock.acquire(blocking=False):
        raise TransactionRefused(
            f"another vote from {address} is being sent; nothing was sent (try again after it)"
        )
    try:
        yield
    finally:
        lock.release()
