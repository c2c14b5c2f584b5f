"""Calls that carry other calls: timelocks, the Governor's relay, resolver multicalls.

The handler only unpacks the inner (target, value, calldata); `decode.py` decodes
them one level down, under the same caps as a proposal's own actions.
"""

from __future__ import annotations

from eth_utils import to_checksum_address

from agent.decode.calls import Call, Handler, InnerCall, Outcome
from agent.decode.flags import flag
from agent.decode.values import duration, utc_time


def _relay(call: Call) -> Outcome:
    inner = InnerCall(
        call.addr("target"), call.uint("value"), bytes(call.args["data"]), **call.by_target()
    )
    return Outcome(f"{call.where} relays a call", inner=[inner])


def _single(verb: str, data: str) -> Handler:
    """TimelockController `schedule` / `execute`: one call, made by the timelock."""

    def handle(call: Call) -> Outcome:
        payload = bytes(call.args[data])
        inner = InnerCall(call.addr("target"), call.uint("value"), payload, **call.by_target())
        after = f" after {duration(call.uint('delay'))}" if "delay" in call.args else ""
        return Outcome(f"{verb} on {call.where}{after}", inner=[inner])

    return handle


def _batch(verb: str) -> Handler:
    """`scheduleBatch` / `executeBatch`: arrays of calls; unequal lengths revert."""

    def handle(call: Call) -> Outcome:
        targets, values, payloads = (call.args[k] for k in ("targets", "values", "payloads"))
        after = f" after {duration(call.uint('delay'))}" if "delay" in call.args else ""
        summary = f"{verb} {len(targets)} call(s) on {call.where}{after}"
        if not len(targets) == len(values) == len(payloads):
            detail = "targets, values and payloads differ in length: the timelock will revert"
            return Outcome(summary, [flag("undecodable", "high", detail)])
        inner = [
            InnerCall(to_checksum_address(t), int(v), bytes(p), **call.by_target())
            for t, v, p in zip(targets, values, payloads, strict=True)
        ]
        return Outcome(summary, inner=inner, join_inner=len(inner) == 1)

    return handle


def _compound(verb: str) -> Handler:
    """Compound Timelock `queueTransaction` / `executeTransaction`: Bravo-style calls."""

    def handle(call: Call) -> Outcome:
        signature = bytes(call.args["signature"]).decode("utf-8", "replace")
        inner = InnerCall(
            call.addr("target"),
            call.uint("value"),
            bytes(call.args["data"]),
            signature=signature,
            **call.by_target(),
        )
        return Outcome(f"{verb} on {call.where} for {utc_time(call.uint('eta'))}", inner=[inner])

    return handle


def _cancel_transaction(call: Call) -> Outcome:
    """A cancelled call will not run: shown, not decoded, not flagged."""
    return Outcome(
        f"Cancel the queued call {call.text('signature', 60)!r} to {call.who('target')} "
        f"on {call.where}"
    )


def _multicall(call: Call) -> Outcome:
    """The contract calls itself (delegatecall), so the caller stays the same."""
    inner = [
        InnerCall(call.target, 0, bytes(data), **call.by_caller()) for data in call.args["data"]
    ]
    summary = f"Multicall on {call.where}: {len(inner)} call(s)"
    return Outcome(summary, inner=inner, join_inner=len(inner) == 1)


HANDLERS: dict[str, Handler] = {
    "call.relay": _relay,
    "call.schedule": _single("Schedule", "data"),
    "call.execute": _single("Execute", "payload"),
    "call.scheduleBatch": _batch("Schedule"),
    "call.executeBatch": _batch("Execute"),
    "call.queueTransaction": _compound("Queue"),
    "call.executeTransaction": _compound("Execute the queued call"),
    "timelock.cancelTransaction": _cancel_transaction,
    "call.multicall": _multicall,
}
