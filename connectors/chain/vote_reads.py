"""GovernorVotes: what one governor says about votes, read at the chain's head.

Why apart from ChainVoter: these reads answer both before a vote (has this account voted?
is the proposal Active?) and after a crash (did the vote land, and in which transaction?),
and they speak both dialects: OpenZeppelin's ``hasVoted`` and Bravo's ``getReceipt``. They
raise what ChainRpc raises (``SourceError``, ``ContractLogicError``); the caller knows
whether anything was sent and so what the failure means.
"""

from __future__ import annotations

from typing import Any

from eth_utils import event_abi_to_log_topic
from web3 import Web3
from web3.exceptions import ContractLogicError, TransactionNotFound

from connectors.chain.governor import STATES, GovernorKind, load_abi
from connectors.chain.logs import RangeWindow, scan_logs
from connectors.chain.rpc import ChainRpc
from connectors.chain.transactions import hex_str, revert_safe

ABI = "governor_vote"
LOG_WINDOW = 2000
"""Widest eth_getLogs range tried by `find_cast`; it shrinks when a provider refuses."""


class GovernorVotes:
    """Vote reads of the governor at ``address``; calls are made from ``caller`` (eth-tester
    refuses calls from unfunded accounts, and the voter pays gas anyway)."""

    def __init__(self, rpc: ChainRpc, address: str, kind: GovernorKind, caller: str) -> None:
        self.rpc = rpc
        self.kind: GovernorKind = kind
        self.address = Web3.to_checksum_address(address)
        self.caller = Web3.to_checksum_address(caller)
        self.contract = rpc.w3.eth.contract(address=self.address, abi=load_abi(ABI))
        self._events = {
            "0x" + event_abi_to_log_topic(e).hex(): str(e["name"])
            for e in self.contract.abi
            if e["type"] == "event"
        }

    def has_voted(self, proposal_id: int, voter: str) -> bool:
        voter = Web3.to_checksum_address(voter)
        if self.kind == "oz":
            fn = self.contract.functions.hasVoted(proposal_id, voter)
            return bool(self._read(f"hasVoted({proposal_id})", fn))
        fn = self.contract.functions.getReceipt(proposal_id, voter)
        return bool(self._read(f"getReceipt({proposal_id})", fn)[0])

    def state(self, proposal_id: int) -> str:
        """One of governor.STATES, or ``unknown`` for an id the governor never saw."""
        fn = self.contract.functions.state(proposal_id)
        try:
            value = int(self._read(f"state({proposal_id})", fn))
        except ContractLogicError:
            return "unknown"  # both governors revert on an unknown id
        return STATES[value] if 0 <= value < len(STATES) else "unknown"

    def find_cast(self, proposal_id: int, voter: str, from_block: int) -> str | None:
        """The transaction whose VoteCast(WithParams) log has ``voter`` on the proposal."""
        voter = Web3.to_checksum_address(voter)
        head = self.rpc.block_number()
        window = RangeWindow(maximum=LOG_WINDOW)
        topics = list(self._events)
        for _frm, _to, logs in scan_logs(
            self.rpc, self.address, topics, max(0, from_block), head, window
        ):
            for entry in logs:
                if (
                    _topic_address(entry["topics"][1]) == voter
                    and self._proposal(entry) == proposal_id
                ):
                    return hex_str(entry["transactionHash"])
        return None

    def receipt(self, tx_hash: str) -> Any | None:
        """The receipt, or None while the transaction is not mined (or unknown)."""

        def fetch() -> Any:
            try:
                return self.rpc.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
            except TransactionNotFound:
                return None

        return self.rpc.call(f"eth_getTransactionReceipt({tx_hash[:10]}…)", fetch)

    def nonce(self, address: str, block: str) -> int:
        """Transactions sent by ``address`` as of ``block`` ("latest" or "pending")."""
        count = self.rpc.w3.eth.get_transaction_count
        return int(
            self.rpc.call(f"eth_getTransactionCount({block})", lambda: count(address, block))  # type: ignore[arg-type]
        )

    def _read(self, what: str, fn: Any) -> Any:
        call = revert_safe(lambda: fn.call({"from": self.caller}, block_identifier="latest"))
        return self.rpc.call(what, call)

    def _proposal(self, entry: Any) -> int:
        event = self.contract.events[self._events[hex_str(entry["topics"][0]).lower()]]
        return int(event().process_log(entry)["args"]["proposalId"])


def _topic_address(topic: Any) -> str:
    raw = bytes.fromhex(hex_str(topic)[2:])
    return Web3.to_checksum_address(raw[-20:])
