"""GovernorReader: one Governor's events and state, for OpenZeppelin and Bravo alike.

Logs are decoded with the contract's ABI into typed events; a log that does
not decode is an error naming its block, transaction and index (nothing from
that range is stored). State and tallies are read at a given block, so a sync
sees the chain as of its last final block.
"""

from __future__ import annotations

import json
from functools import cache, cached_property
from importlib.resources import files
from typing import Any, Literal

from eth_utils import event_abi_to_log_topic
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from web3 import Web3
from web3.exceptions import ContractLogicError

from agent.errors import MalformedResponse
from connectors.chain.rpc import ChainRpc

GovernorKind = Literal["oz", "bravo"]
# Both OZ Governor and GovernorBravo number their states in this order.
STATES = (
    "pending",
    "active",
    "canceled",
    "defeated",
    "succeeded",
    "queued",
    "expired",
    "executed",
)
FINAL_STATES = frozenset({"canceled", "defeated", "expired", "executed"})


@cache
def load_abi(name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(
        files("connectors.chain").joinpath("abi", f"{name}.json").read_text("utf-8")
    )
    return data


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True)
    proposal_id: int
    block: int
    tx: str
    log_index: int
    block_timestamp: int | None = None


class CreatedEvent(_Event):
    proposer: str
    targets: list[str]
    values: list[int]
    signatures: list[str]
    calldatas: list[str]
    vote_start: int
    vote_end: int
    description: str

    @model_validator(mode="after")
    def _same_lengths(self) -> CreatedEvent:
        lengths = {len(self.targets), len(self.values), len(self.signatures), len(self.calldatas)}
        if len(lengths) != 1:
            raise ValueError("targets, values, signatures and calldatas differ in length")
        return self


class VoteEvent(_Event):
    voter: str
    support: int = Field(ge=0, le=2)
    weight: int = Field(ge=0)
    reason: str
    params: str | None = None


class LifecycleEvent(_Event):
    kind: Literal["queued", "executed", "canceled"]
    eta: int | None = None


ChainEvent = CreatedEvent | VoteEvent | LifecycleEvent


class Tally(BaseModel):
    model_config = ConfigDict(frozen=True)
    against: int
    for_: int
    abstain: int


class GovernorReader:
    """Reads one governor through `rpc`."""

    def __init__(self, rpc: ChainRpc, address: str, kind: GovernorKind) -> None:
        self.rpc = rpc
        self.kind = kind
        self.address = Web3.to_checksum_address(address)
        abi = load_abi("oz_governor" if kind == "oz" else "bravo_governor")
        self.contract = rpc.w3.eth.contract(address=self.address, abi=abi)
        self._events = {
            "0x" + event_abi_to_log_topic(e).hex(): e["name"]  # type: ignore[arg-type]
            for e in abi
            if e["type"] == "event"
        }

    @property
    def topics(self) -> list[str]:
        return list(self._events)

    # ---- events -----------------------------------------------------------
    def decode(self, log: Any) -> ChainEvent:
        """A typed event from a raw log; MalformedResponse names where it came from."""
        where = _where(log)
        try:
            topic0 = _hex(log["topics"][0])
            name = self._events[topic0]
            data = getattr(self.contract.events, name)().process_log(log)
            return self._typed(name, data, log)
        except (KeyError, IndexError, TypeError, ValueError, ValidationError) as exc:
            raise MalformedResponse(
                f"{self.rpc.label}: malformed governor log {where}: {_short(exc)}"
            ) from None
        except Exception as exc:  # noqa: BLE001 - eth-abi/web3 decoding errors vary by version
            raise MalformedResponse(
                f"{self.rpc.label}: undecodable governor log {where}: {type(exc).__name__}"
            ) from None

    def _typed(self, name: str, data: Any, log: Any) -> ChainEvent:
        args = data["args"]
        base = {
            "block": int(log["blockNumber"]),
            "tx": _hex(log["transactionHash"]),
            "log_index": int(log["logIndex"]),
            "block_timestamp": _int_or_none(log.get("blockTimestamp")),
        }
        if name == "ProposalCreated":
            pid = args["proposalId"] if self.kind == "oz" else args["id"]
            start = args["voteStart"] if self.kind == "oz" else args["startBlock"]
            end = args["voteEnd"] if self.kind == "oz" else args["endBlock"]
            return CreatedEvent(
                proposal_id=pid,
                proposer=args["proposer"],
                targets=list(args["targets"]),
                values=list(args["values"]),
                signatures=list(args["signatures"]),
                calldatas=["0x" + bytes(c).hex() for c in args["calldatas"]],
                vote_start=start,
                vote_end=end,
                description=args["description"],
                **base,
            )
        if name in ("VoteCast", "VoteCastWithParams"):
            params = args.get("params")
            return VoteEvent(
                proposal_id=args["proposalId"],
                voter=args["voter"],
                support=args["support"],
                weight=args["weight"] if "weight" in args else args["votes"],
                reason=args["reason"],
                params="0x" + bytes(params).hex() if params is not None else None,
                **base,
            )
        pid = args["proposalId"] if self.kind == "oz" else args["id"]
        kind = {"ProposalQueued": "queued", "ProposalExecuted": "executed"}.get(name, "canceled")
        eta = args.get("etaSeconds", args.get("eta")) if kind == "queued" else None
        return LifecycleEvent(proposal_id=pid, kind=kind, eta=eta, **base)

    # ---- reads ------------------------------------------------------------
    def state(self, proposal_id: int, block: int) -> str | None:
        """The proposal's state at `block`; None when the governor does not know it."""
        fn = self.contract.functions.state(proposal_id)
        try:
            value = self.rpc.call(f"state({proposal_id})", lambda: fn.call(block_identifier=block))
        except ContractLogicError:
            return None
        try:
            return STATES[int(value)]
        except (IndexError, ValueError):
            raise MalformedResponse(
                f"{self.rpc.label}: governor {self.address} answered state {value!r}"
            ) from None

    def tally(self, proposal_id: int, block: int) -> Tally:
        if self.kind == "oz":
            fn = self.contract.functions.proposalVotes(proposal_id)
            against, for_, abstain = self.rpc.call(
                f"proposalVotes({proposal_id})", lambda: fn.call(block_identifier=block)
            )
        else:
            fn = self.contract.functions.proposals(proposal_id)
            row = self.rpc.call(
                f"proposals({proposal_id})", lambda: fn.call(block_identifier=block)
            )
            for_, against, abstain = row[5], row[6], row[7]
        return Tally(against=int(against), for_=int(for_), abstain=int(abstain))

    def quorum(self, vote_start: int, block: int) -> int | None:
        try:
            if self.kind == "oz":
                fn = self.contract.functions.quorum(vote_start)
            else:
                fn = self.contract.functions.quorumVotes()
            return int(self.rpc.call("quorum", lambda: fn.call(block_identifier=block)))
        except ContractLogicError:
            return None

    @cached_property
    def token(self) -> str | None:
        fn = (
            self.contract.functions.token() if self.kind == "oz" else self.contract.functions.comp()
        )
        try:
            return str(self.rpc.call("token()", fn.call))
        except ContractLogicError:
            return None

    @cached_property
    def uses_timestamps(self) -> bool:
        """ERC-6372: OZ governors may count time in seconds instead of blocks."""
        if self.kind != "oz":
            return False
        try:
            mode = self.rpc.call("CLOCK_MODE()", self.contract.functions.CLOCK_MODE().call)
        except ContractLogicError:
            return False
        return "mode=timestamp" in str(mode)

    @cached_property
    def name(self) -> str | None:
        if self.kind != "oz":
            return None
        try:
            return str(self.rpc.call("name()", self.contract.functions.name().call))
        except ContractLogicError:
            return None


def _where(log: Any) -> str:
    try:
        block = log.get("blockNumber")
        tx = log.get("transactionHash")
        index = log.get("logIndex")
    except AttributeError:
        return "(not a log object)"
    return f"in block {block}, transaction {_hex(tx) if tx is not None else '?'}, log {index}"


def _hex(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    text = str(value)
    return text if text.startswith("0x") else "0x" + text


def _int_or_none(value: Any) -> int | None:
    if value is None:
        return None
    return int(value, 16) if isinstance(value, str) else int(value)


def _short(exc: Exception) -> str:
    return (str(exc) or type(exc).__name__).splitlines()[0][:200]
