"""Decoded actions read back from `Proposal.extra`, as facts the hard rules can check.

These come from the chain, not from the proposal's prose, so a rule can trust them:
what a proposal *executes* is what it asks for, whatever its text says. They only
ever add failures to the text-based checks, never remove one.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from pydantic import ValidationError

from agent.decode.models import ActionFlag, DecodedAction
from agent.models import ProposalExtra

UNLIMITED = Decimal("Infinity")
_MOVES = frozenset({"treasury_outflow", "stream", "eth_value"})
"""Money that leaves: transfers and allowances, streams (their full deposit), ether."""


def stored_actions(extra: ProposalExtra) -> list[DecodedAction]:
    """The decoded actions in `extra.actions`; [] when absent or of another shape."""
    raw = extra.actions
    if not isinstance(raw, list):
        return []
    try:
        return [DecodedAction.model_validate(item) for item in raw]
    except ValidationError:
        return []


def all_flags(actions: Sequence[DecodedAction]) -> list[ActionFlag]:
    """Every flag, nested calls included."""
    return [f for action in actions for node in action.walk() for f in node.flags]


def _counted(flag: ActionFlag) -> bool:
    """Money that leaves the DAO: not `info` (moves between the DAO's own contracts)."""
    return flag.kind in _MOVES and flag.severity != "info"


def _amount(flag: ActionFlag) -> Decimal | None:
    if flag.unlimited:
        return UNLIMITED
    try:
        return Decimal(flag.amount) if flag.amount is not None else None
    except InvalidOperation:
        return None


def outflow_totals(actions: Sequence[DecodedAction]) -> dict[str, Decimal]:
    """Human amounts leaving the DAO, summed per upper-case symbol (ETH for ether).

    Summed, because ten transfers of 99k are a 990k outflow; approvals count as the
    most they let a spender take, and an unlimited one as infinity. An allowance that
    the same proposal then uses (a stream or pull through the approved contract) is one
    outflow, not two: only what the allowance leaves over the use is added.
    """
    totals: dict[str, Decimal] = {}
    allowances: dict[tuple[str, str], Decimal] = {}
    used: dict[tuple[str, str], Decimal] = {}
    for node in (n for action in actions for n in action.walk()):
        for flag in node.flags:
            amount = _amount(flag)
            if not (_counted(flag) and flag.token and amount is not None):
                continue
            symbol = flag.token.upper()
            if _is_allowance(node) and flag.recipient:
                key = (symbol, flag.recipient.lower())
                allowances[key] = allowances.get(key, Decimal(0)) + amount
                continue
            totals[symbol] = totals.get(symbol, Decimal(0)) + amount
            key = (symbol, node.target.lower())
            used[key] = used.get(key, Decimal(0)) + amount
    for (symbol, spender), allowed in allowances.items():
        extra = allowed - min(allowed, used.get((symbol, spender), Decimal(0)))
        totals[symbol] = totals.get(symbol, Decimal(0)) + extra
    return totals


def _is_allowance(action: DecodedAction) -> bool:
    name = (action.function or "").split("(")[0]
    return name in ("approve", "increaseAllowance")


def uncounted_outflows(actions: Sequence[DecodedAction]) -> int:
    """Outflows no limit can be checked against: NFTs, tokens of unknown decimals."""
    return sum(
        1
        for flag in all_flags(actions)
        if _counted(flag) and (flag.token is None or _amount(flag) is None)
    )


def outflow_recipients(actions: Sequence[DecodedAction]) -> set[str]:
    """Lower-cased addresses that receive money or an allowance."""
    return {
        flag.recipient.lower()
        for flag in all_flags(actions)
        if _counted(flag) and flag.recipient is not None
    }


def upgrades(actions: Sequence[DecodedAction]) -> list[ActionFlag]:
    return [flag for flag in all_flags(actions) if flag.kind == "upgrade"]


def action_briefs(extra: ProposalExtra) -> list[str]:
    """One line per action (nested ones indented) with its flags: what a person or a
    prompt needs, without raw calldata (whose strings are attacker-chosen)."""

    def walk(actions: Sequence[DecodedAction], depth: int) -> list[str]:
        lines: list[str] = []
        for a in actions:
            flags = ", ".join(f"{f.severity}:{f.kind}" for f in a.flags)
            lines.append("  " * depth + _where(a) + a.summary + (f" [{flags}]" if flags else ""))
            lines += walk(a.inner, depth + 1)
        return lines

    return walk(stored_actions(extra), 0)


_KEY_KINDS = frozenset({*_MOVES, "upgrade", "delegatecall", "cross_chain", "oracle_change"})


def key_action_briefs(extra: ProposalExtra, limit: int = 5) -> list[str]:
    """The actions a delegate must see first (money leaving, upgrades, delegatecalls,
    messages to other chains, anything high), one line each, most severe first."""
    picked: list[tuple[int, str]] = []
    for action in stored_actions(extra):
        for node in action.walk():
            worst = [f for f in node.flags if f.severity != "info"]
            key = [f for f in worst if f.kind in _KEY_KINDS or f.severity == "high"]
            if key:
                kinds = ", ".join(dict.fromkeys(f.kind for f in key))
                rank = 0 if any(f.severity == "high" for f in key) else 1
                picked.append((rank, f"{_where(node)}{node.summary} [{kinds}]"))
    ordered = [text for _, text in sorted(picked, key=lambda p: p[0])]
    unique = list(dict.fromkeys(ordered))
    more = len(unique) - limit
    return unique[:limit] + ([f"… and {more} more flagged action(s)"] if more > 0 else [])


def _where(action: DecodedAction) -> str:
    """`(on Polygon, delegatecall) `: how a call runs, when that is not a plain call here."""
    notes = ([f"on {action.chain}"] if action.chain else []) + (
        ["delegatecall"] if action.delegatecall else []
    )
    return f"({', '.join(notes)}) " if notes else ""
