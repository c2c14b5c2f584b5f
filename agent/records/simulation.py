"""What a simulation is asked to run, and what it found (stored verbatim, JSON-safe).

A report is versioned by its own SHA-256 (`report_hash`) and by the proposal content
hash it was made for; the hard rules, the prompt and the vote's provenance quote it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.decode.models import RawAction

Method = Literal["governor", "timelock_impersonation"]
ActionStatus = Literal["success", "reverted", "not_reached"]
AdminKind = Literal[
    "ownership", "role_granted", "role_revoked", "admin", "implementation", "beacon"
]
REPORT_VERSION = 1


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SimulationRequest(_Frozen):
    """One stored Governor proposal, with everything needed to execute it on a fork."""

    uid: str
    content_hash: str
    chain: str
    chain_id: int
    governor: str
    governor_kind: Literal["oz", "bravo"]
    proposal_id: int
    actions: list[RawAction]
    description: str
    holders: list[str] = Field(default_factory=list)
    """Accounts known to hold voting power (largest first): impersonated to meet quorum."""
    block: int | None = None
    """Fork at this block; None: the chain's latest."""


class ActionOutcome(_Frozen):
    index: int
    target: str
    value_wei: str
    status: ActionStatus
    reason: str | None = None
    """Decoded revert reason (`Error(string)`, a panic, a known custom error, or hex)."""
    gas_used: int | None = None
    target_has_code: bool = True


class EthChange(_Frozen):
    address: str
    before_wei: str
    after_wei: str
    delta_wei: str
    delta_eth: str


class TokenMove(_Frozen):
    kind: Literal["transfer", "approval"]
    token: str
    symbol: str | None = None
    decimals: int | None = None
    source: str
    """Transfer: `from`; approval: the owner."""
    destination: str
    """Transfer: `to`; approval: the spender."""
    amount_raw: str
    amount: str | None = None
    """Human units (decimal string); None when decimals are unknown."""


class AdminChange(_Frozen):
    kind: AdminKind
    contract: str
    detail: str
    before: str | None = None
    after: str | None = None
    role: str | None = None
    account: str | None = None


class StorageChange(_Frozen):
    contract: str
    slots: int
    sample: list[tuple[str, str, str]] = Field(default_factory=list)
    """Up to a few (slot, before, after) triples, for people."""


class SimFlag(_Frozen):
    kind: Literal["revert", "no_code_target", "hidden_outflow", "not_executable"]
    severity: Literal["info", "warn", "high"]
    detail: str


class SimulationReport(_Frozen):
    """Either `simulated` with its findings, or `not_simulated` with why (never a gap)."""

    version: int = REPORT_VERSION
    uid: str
    content_hash: str
    status: Literal["simulated", "not_simulated"]
    why: str | None = None
    method: Method | None = None
    method_note: str | None = None
    """Why the method was chosen (e.g. why the governor path was out of reach)."""
    executor: str | None = None
    dao: list[str] = Field(default_factory=list)
    """Lower-cased addresses counted as the DAO's own (executor, governor, configured
    treasuries): money leaving them is an outflow."""
    fork_block: int | None = None
    actions: list[ActionOutcome] = Field(default_factory=list)
    eth_changes: list[EthChange] = Field(default_factory=list)
    token_moves: list[TokenMove] = Field(default_factory=list)
    admin_changes: list[AdminChange] = Field(default_factory=list)
    storage: list[StorageChange] = Field(default_factory=list)
    storage_note: str | None = None
    """Set when storage diffs were not available (the node has no diff-mode trace)."""
    gas_used: int | None = None
    flags: list[SimFlag] = Field(default_factory=list)
    timings: dict[str, float] = Field(default_factory=dict, exclude=True)
    """Seconds per phase (fork, execute, report); measured, not part of the hash."""
    created: datetime

    @property
    def simulated(self) -> bool:
        return self.status == "simulated"

    @property
    def reverted(self) -> bool:
        return any(a.status == "reverted" for a in self.actions)

    def report_hash(self) -> str:
        """SHA-256 of the findings (not of when they were made or how long it took)."""
        body = self.model_dump(mode="json", exclude={"created", "timings"})
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def not_simulated(request: SimulationRequest, why: str, now: datetime) -> SimulationReport:
    """A stored "not simulated: why"."""
    return SimulationReport(
        uid=request.uid,
        content_hash=request.content_hash,
        status="not_simulated",
        why=why,
        fork_block=request.block,
        created=now,
    )
