"""Flags and the amounts they carry, built the same way by every handler.

An outflow flag holds the token's symbol and the amount in human units as an exact
decimal string, because the policy's hard rules compare them with its limits.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.decode.context import Context
from agent.decode.models import ActionFlag, FlagKind, Severity
from agent.decode.values import UINT256_MAX, grouped, human_amount, plain, short


@dataclass(frozen=True)
class Money:
    """An amount of one token, as a person reads it and as a rule compares it."""

    text: str
    """`250,000 USDC`, `unlimited USDC`, or `1234 raw units of 0xA0b8…eB48`."""
    raw: int
    symbol: str | None = None
    amount: str | None = None
    """Plain decimal string in human units; None when the decimals are unknown."""
    token_address: str | None = None
    unlimited: bool = False


def money(ctx: Context, token_address: str, raw: int) -> Money:
    """An amount of an ERC-20 token; unknown decimals leave it in raw units with a note."""
    info = ctx.token(token_address)
    unlimited = raw == UINT256_MAX
    if info is None:
        what = "unlimited" if unlimited else f"{raw} raw units"
        text = f"{what} of {ctx.label(token_address)} (decimals unknown)"
        return Money(text=text, raw=raw, token_address=token_address, unlimited=unlimited)
    amount = human_amount(raw, info.decimals)
    text = f"unlimited {info.symbol}" if unlimited else f"{grouped(amount)} {info.symbol}"
    return Money(
        text=text,
        raw=raw,
        symbol=info.symbol,
        amount=plain(amount),
        token_address=token_address,
        unlimited=unlimited,
    )


def ether(raw: int) -> Money:
    amount = human_amount(raw, 18)
    return Money(text=f"{grouped(amount)} ETH", raw=raw, symbol="ETH", amount=plain(amount))


def flag(kind: FlagKind, severity: Severity, detail: str) -> ActionFlag:
    return ActionFlag(kind=kind, severity=severity, detail=detail)


def _level(unlimited: bool, internal: bool) -> Severity:
    return "high" if unlimited else "info" if internal else "warn"


def outflow(amount: Money, recipient: str, detail: str, *, internal: bool = False) -> ActionFlag:
    """A treasury outflow. `internal` (into a configured treasury, timelock or governor)
    keeps it visible at `info`, which the hard rules do not count; unlimited is high."""
    return ActionFlag(
        kind="treasury_outflow",
        severity=_level(amount.unlimited, internal),
        detail=detail,
        token=amount.symbol,
        token_address=amount.token_address,
        amount=None if amount.unlimited else amount.amount,
        amount_raw=str(amount.raw),
        recipient=recipient,
        unlimited=amount.unlimited,
    )


def nft_outflow(ctx: Context, collection: str, token_id: int, recipient: str) -> ActionFlag:
    return ActionFlag(
        kind="treasury_outflow",
        severity=_level(False, ctx.is_internal(recipient)),
        detail=f"NFT #{token_id} of {ctx.label(collection)} goes to {ctx.label(recipient)}",
        token=ctx.name(collection),
        token_address=collection,
        recipient=recipient,
        token_id=str(token_id),
    )


def eth_value(ctx: Context, value: int, target: str) -> ActionFlag:
    sent = ether(value)
    return ActionFlag(
        kind="eth_value",
        severity=_level(False, ctx.is_internal(target)),
        detail=f"sends {sent.text} to {ctx.label(target)}",
        token="ETH",
        amount=sent.amount,
        amount_raw=str(value),
        recipient=target,
    )


def unknown_target(ctx: Context, target: str) -> ActionFlag:
    info = ctx.seen_token(target)
    note = f"; it calls itself {info.symbol} on chain, unverified" if info else ""
    return flag("unknown_target", "warn", f"{short(target)} is not a configured contract{note}")
