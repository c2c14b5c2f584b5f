"""What a simulation moved out of the DAO, in the terms the hard rules use, and where the
calldata and the simulation disagree (an outflow the decoded actions did not show).

"The DAO" is the executor (timelock), the governor and the contracts the delegate's
configuration names as treasury, timelock, governor or multisig.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from agent.decode.models import DecodedAction
from agent.decode.stored import UNLIMITED, outflow_totals
from agent.records.simulation import SimFlag, SimulationReport

DAO_KINDS = frozenset({"treasury", "timelock", "governor", "multisig"})
UINT256_MAX = 2**256 - 1


class SimulatedFlows(BaseModel):
    """The simulation's facts the hard rules read (with the report's hash to cite)."""

    model_config = ConfigDict(frozen=True)
    report_hash: str
    outflows: dict[str, Annotated[Decimal, Field(allow_inf_nan=True)]] = Field(default_factory=dict)
    """Human amounts leaving DAO addresses, per upper-case symbol (ETH for ether)."""
    recipients: set[str] = Field(default_factory=set)
    """Lower-cased addresses that received money or an allowance from the DAO."""
    upgrades: list[str] = Field(default_factory=list)
    reverted: bool = False
    hidden: list[str] = Field(default_factory=list)
    """Symbols whose simulated outflow exceeds what the decoded calldata shows."""


def dao_addresses(
    report: SimulationReport, governor: str, known: Iterable[tuple[str, str]]
) -> set[str]:
    """`known` is (address, kind) of configured contracts."""
    out = {governor.lower()} | ({report.executor.lower()} if report.executor else set())
    return out | {address.lower() for address, kind in known if kind in DAO_KINDS}


def _symbol(symbol: str | None, token: str) -> str:
    return (symbol or token).upper()


def flows(report: SimulationReport, dao: set[str]) -> SimulatedFlows:
    totals: dict[str, Decimal] = {}
    recipients: set[str] = set()
    for move in report.token_moves:
        if move.source.lower() not in dao or move.destination.lower() in dao:
            continue
        unlimited = move.kind == "approval" and int(move.amount_raw) == UINT256_MAX
        amount = UNLIMITED if unlimited else Decimal(move.amount) if move.amount else None
        if amount is None or amount == 0:
            continue
        key = _symbol(move.symbol, move.token)
        totals[key] = totals.get(key, Decimal(0)) + amount
        recipients.add(move.destination.lower())
    eth_out = -sum(
        (Decimal(c.delta_eth) for c in report.eth_changes if c.address.lower() in dao), Decimal(0)
    )
    if eth_out > 0:
        totals["ETH"] = eth_out
        recipients |= {
            c.address.lower()
            for c in report.eth_changes
            if c.address.lower() not in dao and Decimal(c.delta_wei) > 0
        }
    upgrades = [c.detail for c in report.admin_changes if c.kind in ("implementation", "beacon")]
    return SimulatedFlows(
        report_hash=report.report_hash(),
        outflows=totals,
        recipients=recipients,
        upgrades=upgrades,
        reverted=report.reverted,
    )


def current_flows(report: SimulationReport | None, content_hash: str) -> SimulatedFlows | None:
    """The flows of a simulation made for this version of the proposal; None otherwise."""
    if report is None or not report.simulated or report.content_hash != content_hash:
        return None
    found = flows(report, set(report.dao))
    hidden = [f.detail for f in report.flags if f.kind == "hidden_outflow"]
    return found.model_copy(update={"hidden": hidden})


def escalations(report: SimulationReport | None, content_hash: str) -> list[str]:
    """Why a human must look, from the simulation: reverts and hidden outflows (high flags)."""
    if report is None or report.content_hash != content_hash or not report.simulated:
        return []
    return [f"simulation: {f.detail}" for f in report.flags if f.severity == "high"]


def mismatches(simulated: SimulatedFlows, decoded: Sequence[DecodedAction]) -> list[SimFlag]:
    """An outflow the simulation saw and the decoded calldata did not (or showed less of)."""
    shown = outflow_totals(decoded)
    flags = []
    for symbol, amount in sorted(simulated.outflows.items()):
        if amount > shown.get(symbol, Decimal(0)):
            flags.append(
                SimFlag(
                    kind="hidden_outflow",
                    severity="high",
                    detail=f"the simulation moves {_fmt(amount)} {symbol} out of the DAO; "
                    f"the decoded calldata shows {_fmt(shown.get(symbol, Decimal(0)))}",
                )
            )
    return flags


def _fmt(amount: Decimal) -> str:
    return "an unlimited amount of" if amount == UNLIMITED else f"{amount:,f}"


def summary(report: SimulationReport, dao: set[str] | None = None) -> str:
    """One line for people and prompts:
    "simulated (governor): 250,000 USDC from 0x… to 0x…; 1 implementation change"."""
    if not report.simulated:
        return f"not simulated: {report.why}"
    parts = []
    for move in report.token_moves:
        if move.kind == "transfer" and (dao is None or move.source.lower() in dao):
            amount = (
                f"{Decimal(move.amount):,f}" if move.amount else f"{move.amount_raw} raw units of"
            )
            parts.append(
                f"{amount} {move.symbol or move.token} from {move.source} to {move.destination}"
            )
    for change in report.eth_changes:
        if Decimal(change.delta_wei) > 0:
            parts.append(f"{Decimal(change.delta_eth):,f} ETH to {change.address}")
    kinds: dict[str, int] = {}
    for c in report.admin_changes:
        kinds[c.kind] = kinds.get(c.kind, 0) + 1
    parts += [
        f"{n} {k.replace('_', ' ')} change{'s' if n > 1 else ''}" for k, n in sorted(kinds.items())
    ]
    reverted = [a for a in report.actions if a.status == "reverted"]
    if reverted:
        parts.insert(0, f"REVERTS at action {reverted[0].index + 1} ({reverted[0].reason})")
    hidden = [f.detail for f in report.flags if f.kind == "hidden_outflow"]
    parts += [f"MISMATCH: {h}" for h in hidden]
    body = "; ".join(parts[:8]) or "no transfers or admin changes"
    return f"simulated ({report.method}): {body}"
