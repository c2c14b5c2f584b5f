"""Money that leaves through protocol functions: reserves, grants, reserve controllers, streams.

Each names its token and amount the way the hard rules read them (symbol, human
units); a stream counts its full deposit, since that is what the DAO commits.
"""

from __future__ import annotations

from eth_utils import to_checksum_address

from agent.decode.calls import Call, Handler, Outcome
from agent.decode.flags import ether, flag, money, outflow
from agent.decode.models import ActionFlag
from agent.decode.values import duration, grouped, human_amount, utc_time

COMP = to_checksum_address("0xc00e94cb662c3520282e6f5717214004a7f26888")
"""The token Compound's Comptroller grants (its `getCompAddress()` on mainnet)."""
SECONDS_PER_MONTH = 30 * 86_400


def _reduce_reserves(call: Call) -> Outcome:
    """A market sends reserves of the token it holds to its admin (the DAO's timelock):
    shown, at `info` like any move between the DAO's own contracts; what the timelock
    then sends on is the outflow the hard rules count."""
    raw = call.uint("reduceAmount")
    market = call.ctx.contract(call.target)
    held = market.underlying if market else None
    amount = ether(raw) if held == "ETH" else money(call.ctx, held, raw) if held else None
    what = amount.text if amount else f"{raw:,} raw units of the token it holds"
    summary = f"Take {what} of {call.where}'s reserves out, to its admin"
    if amount is None:
        moved = ActionFlag(
            kind="treasury_outflow", severity="info", detail=summary, amount_raw=str(raw)
        )
        return Outcome(summary, [moved])
    moved = outflow(amount, "", summary, internal=True).model_copy(update={"recipient": None})
    return Outcome(summary, [moved], labels={"reduceAmount": amount.text})


def _grant_comp(call: Call) -> Outcome:
    amount = money(call.ctx, COMP, call.uint("amount"))
    to = call.addr("recipient")
    summary = f"Grant {amount.text} from {call.where} to {call.who('recipient')}"
    flags = [outflow(amount, to, summary, internal=call.ctx.is_internal(to))]
    return Outcome(summary, flags, labels={"amount": amount.text})


def _reserve_move(verb: str) -> Handler:
    """Aave's reserve controllers: `transfer` / `approve` of a token the reserve holds."""

    def handle(call: Call) -> Outcome:
        amount = money(call.ctx, call.addr("token"), call.uint("amount"))
        to = call.addr("recipient")
        reserve = f"the reserve ({call.where})"
        holder = call.who("collector") if "collector" in call.args else reserve
        summary = f"{verb} {amount.text} from {holder} to {call.who('recipient')}"
        internal = verb == "Transfer" and call.ctx.is_internal(to)
        return Outcome(
            summary,
            [outflow(amount, to, summary, internal=internal)],
            labels={"amount": amount.text},
        )

    return handle


def _create_stream(call: Call) -> Outcome:
    amount = money(call.ctx, call.addr("tokenAddress"), call.uint("deposit"))
    start, stop = call.uint("startTime"), call.uint("stopTime")
    to = call.addr("recipient")
    span = duration(stop - start) if stop > start else "no time"
    summary = (
        f"Stream {amount.text} from {call.caller} to {call.who('recipient')} over {span} "
        f"({utc_time(start)} to {utc_time(stop)}) via {call.where}"
    )
    moved = outflow(amount, to, summary, internal=call.ctx.is_internal(to))
    return Outcome(
        summary, [moved.model_copy(update={"kind": "stream"})], labels={"deposit": amount.text}
    )


def _flowrate(call: Call) -> Outcome:
    """Superfluid: a rate per second with no end; the total depends on when it stops."""
    token, rate = call.addr("token"), int(call.args["flowrate"])
    info = call.ctx.token(token)
    unit = info.symbol if info else f"raw units of {call.ctx.label(token)}"
    per_month = (
        grouped(human_amount(rate * SECONDS_PER_MONTH, info.decimals))
        if info
        else f"{rate * SECONDS_PER_MONTH:,}"
    )
    if rate <= 0:
        summary = f"Stop the {call.ctx.label(token)} stream to {call.who('receiver')}"
        return Outcome(summary, [flag("stream", "info", summary)])
    summary = (
        f"Stream {per_month} {unit} a month from {call.caller} to {call.who('receiver')} "
        "until stopped"
    )
    moved = ActionFlag(
        kind="stream",
        severity="warn",
        detail=summary + " (no end: the total is not fixed)",
        token=info.symbol if info else None,
        token_address=token,
        recipient=call.addr("receiver"),
    )
    return Outcome(summary, [moved])


HANDLERS: dict[str, Handler] = {
    "outflow.reduceReserves": _reduce_reserves,
    "outflow.grantComp": _grant_comp,
    "outflow.reserveTransfer": _reserve_move("Transfer"),
    "outflow.reserveApprove": _reserve_move("Approve"),
    "outflow.collectorTransfer": _reserve_move("Transfer"),
    "stream.create": _create_stream,
    "stream.flowrate": _flowrate,
}
