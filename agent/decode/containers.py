"""Calls that carry other calls: Safe transactions, MultiSend batches, Aave's timelock
queues, and messages to other chains.

Like `nested.py`, a handler only unpacks (target, value, calldata, operation); `decode.py`
decodes each inner call under the same caps. Who makes an inner call matters: a Safe
makes its own; a MultiSend run by delegatecall makes them as the Safe that ran it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils import to_checksum_address

from agent.decode.calls import Call, Handler, InnerCall, Outcome
from agent.decode.flags import flag
from agent.decode.models import ActionFlag

MAX_BATCH = 10_000
"""MultiSend entries parsed at most (the decoder's own budget stops far earlier)."""
ARBITRUM_INBOXES = {
    "0x4dbd4fc535ac27206064b68ffcf827b0a60bab3f": "Arbitrum One",
    "0xc4448b71118c9071bcb9734a0eac55d18a153949": "Arbitrum Nova",
}
"""Arbitrum's delayed inboxes on Ethereum (docs.arbitrum.io, "Contract addresses")."""
OP_MESSENGERS = {
    "0x25ace71c97b33cc4729cf772ae268934f7ab5fa1": "OP Mainnet",
    "0x866e82a600a1414e583f7f13623f1ac5d58b0afa": "Base",
}
"""L1CrossDomainMessenger proxies (the OP Stack superchain registry)."""
_AAVE_BATCH = ["address[]", "uint256[]", "bytes[]", "bytes[]", "bool[]"]
_BRAVO_BATCH = ["address[]", "uint256[]", "bytes[]", "bytes[]"]


def _safe_exec(call: Call) -> Outcome:
    operation = call.uint("operation")
    if operation > 1:
        detail = f"Safe operation {operation} is neither call (0) nor delegatecall (1)"
        return Outcome(f"Safe transaction on {call.where}", [flag("undecodable", "high", detail)])
    inner = InnerCall(
        call.addr("to"),
        call.uint("value"),
        bytes(call.args["data"]),
        caller=call.where,
        delegatecall=operation == 1,
    )
    how = " by delegatecall" if operation == 1 else ""
    return Outcome(f"{call.where} (a Safe) executes{how}", inner=[inner])


def _multi_send(call: Call) -> Outcome:
    """Packed entries: operation (1 byte), to (20), value (32), length (32), data."""
    data = bytes(call.args["transactions"])
    caller = call.caller if call.delegatecall else call.where
    inner: list[InnerCall] = []
    flags: list[ActionFlag] = []
    at = 0
    while at < len(data) and len(inner) < MAX_BATCH:
        if at + 85 > len(data):
            flags.append(flag("undecodable", "high", "the MultiSend batch ends mid-entry"))
            break
        operation = data[at]
        to = to_checksum_address(data[at + 1 : at + 21])
        value = int.from_bytes(data[at + 21 : at + 53], "big")
        size = int.from_bytes(data[at + 53 : at + 85], "big")
        if operation > 1 or at + 85 + size > len(data):
            flags.append(flag("undecodable", "high", "a MultiSend entry does not parse"))
            break
        payload = data[at + 85 : at + 85 + size]
        inner.append(InnerCall(to, value, payload, caller=caller, delegatecall=operation == 1))
        at += 85 + size
    summary = f"MultiSend batch of {len(inner)} call(s) made by {caller}"
    return Outcome(summary, flags, inner=inner, join_inner=len(inner) == 1)


def _aave_queue(call: Call) -> Outcome:
    """ArcTimelock / bridge executors: Bravo-style actions, each maybe a delegatecall."""
    arrays = [list(call.args[k]) for k in ("targets", "values", "signatures", "calldatas")]
    delegate = list(call.args["withDelegatecalls"])
    summary = f"Queue {len(arrays[0])} action(s) on {call.where}"
    inner = _bravo_batch(call.where, arrays, delegate)
    if inner is None:
        detail = "the queued arrays differ in length: the timelock will revert"
        return Outcome(summary, [flag("undecodable", "high", detail)])
    return Outcome(summary, inner=inner, join_inner=len(inner) == 1)


def _bravo_batch(
    caller: str,
    arrays: Sequence[list[Any]],
    delegate: list[Any] | None = None,
    chain: str | None = None,
) -> list[InnerCall] | None:
    """(targets, values, signatures, calldatas) as inner calls; None if lengths differ."""
    targets, values, signatures, calldatas = arrays
    flags = delegate if delegate is not None else [False] * len(targets)
    if not len(targets) == len(values) == len(signatures) == len(calldatas) == len(flags):
        return None
    return [
        InnerCall(
            to_checksum_address(t),
            int(v),
            bytes(d),
            signature=bytes(s).decode("utf-8", "replace") if isinstance(s, bytes) else str(s),
            caller=caller,
            delegatecall=bool(f),
            chain=chain,
        )
        for t, v, s, d, f in zip(targets, values, signatures, calldatas, flags, strict=True)
    ]


def _cross_chain(call: Call, chain: str, inner: list[InnerCall], note: str = "") -> Outcome:
    summary = f"Send {len(inner) or 'a'} call(s) to {chain} via {call.where}{note}"
    detail = f"{summary}: they run there with the DAO's authority, after a bridge delay"
    return Outcome(summary, [flag("cross_chain", "warn", detail)], inner=inner)


def _retryable(call: Call) -> Outcome:
    chain = ARBITRUM_INBOXES.get(call.target.lower(), "an Arbitrum chain")
    caller = f"{call.caller} (aliased on {chain})"
    inner = InnerCall(
        call.addr("to"), call.uint("l2CallValue"), bytes(call.args["data"]), caller=caller
    )
    return _cross_chain(call, chain, [_on(inner, chain)])


def _op_message(call: Call) -> Outcome:
    chain = OP_MESSENGERS.get(call.target.lower(), "an OP Stack chain")
    caller = f"{call.caller} (via the {chain} messenger)"
    inner = InnerCall(call.addr("_target"), 0, bytes(call.args["_message"]), caller=caller)
    return _cross_chain(call, chain, [_on(inner, chain)])


def _fx_message(call: Call) -> Outcome:
    """Polygon's FxPortal: the message is the receiver's own; DAO bridge executors (Aave,
    Compound) take a Bravo-style batch, which is opened when it decodes as one exactly."""
    chain = "Polygon"
    receiver = call.who("_receiver")
    batch = _decode_batch(bytes(call.args["_data"]), receiver, chain)
    if batch is None:
        note = f" for {receiver}: a message in its own format (not decoded)"
        outcome = _cross_chain(call, chain, [], note)
        outcome.flags.append(flag("undecodable", "warn", f"message to {receiver}: not decoded"))
        return outcome
    return _cross_chain(call, chain, batch, f" for {receiver}")


def _decode_batch(data: bytes, caller: str, chain: str) -> list[InnerCall] | None:
    for types in (_AAVE_BATCH, _BRAVO_BATCH):
        try:
            values = abi_decode(types, data)
        except (DecodingError, ValueError, OverflowError, TypeError, IndexError):
            continue
        delegate = list(values[4]) if len(values) == 5 else None
        batch = _bravo_batch(caller, [list(v) for v in values[:4]], delegate, chain=chain)
        if batch:
            return batch
    return None


def _on(inner: InnerCall, chain: str) -> InnerCall:
    return InnerCall(
        inner.target, inner.value, inner.calldata, inner.signature, inner.caller, False, chain
    )


HANDLERS: dict[str, Handler] = {
    "container.safeExec": _safe_exec,
    "container.safeModuleExec": _safe_exec,
    "container.multiSend": _multi_send,
    "container.aaveQueue": _aave_queue,
    "bridge.retryable": _retryable,
    "bridge.opMessage": _op_message,
    "bridge.fxMessage": _fx_message,
}
