"""Calls that carry other calls: Safe transactions, MultiSend batches, Aave's timelock
queues, and messages to other chains.

Like `nested.py`, a handler only unpacks (target, value, calldata, operation); `decode.py`
decodes each inner call under the same caps. Who makes an inner call matters: a Safe
makes its own; a MultiSend run by delegatecall makes them as the Safe that ran it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
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
        **call.by_target(),
        delegatecall=operation == 1,
    )
    how = " by delegatecall" if operation == 1 else ""
    return Outcome(f"{call.where} (a Safe) executes{how}", inner=[inner])


def _multi_send(call: Call) -> Outcome:
    """Packed entries: operation (1 byte), to (20), value (32), length (32), data."""
    data = bytes(call.args["transactions"])
    maker = call.by_caller() if call.delegatecall else call.by_target()
    caller = maker["caller"]
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
        inner.append(InnerCall(to, value, payload, **maker, delegatecall=operation == 1))
        at += 85 + size
    summary = f"MultiSend batch of {len(inner)} call(s) made by {caller}"
    return Outcome(summary, flags, inner=inner, join_inner=len(inner) == 1)


def _delegate_exec(call: Call) -> Outcome:
    """`execute(address, bytes)`: the executor runs the target's code as its own."""
    inner = InnerCall(
        call.addr("upgrade"),
        0,
        bytes(call.args["upgradeCallData"]),
        **call.by_target(),
        delegatecall=True,
    )
    return Outcome(f"{call.where} runs the code of {call.who('upgrade')}", inner=[inner])


def _execute_call(call: Call) -> Outcome:
    target, data = call.addr("target"), bytes(call.args["targetCallData"])
    inner = InnerCall(target, call.value, data, **call.by_target())
    return Outcome(f"{call.where} calls {call.who('target')}", inner=[inner])


def _roles_exec(call: Call) -> Outcome:
    """Zodiac Roles: a role member has the modifier's Safe make the call."""
    operation = call.uint("operation")
    inner = InnerCall(
        call.addr("to"),
        call.uint("value"),
        bytes(call.args["data"]),
        caller=f"the Safe behind {call.where}",
        delegatecall=operation == 1,
    )
    return Outcome(f"Call through the roles of {call.where}", inner=[inner])


def _aave_queue(call: Call) -> Outcome:
    """ArcTimelock / bridge executors: Bravo-style actions, each maybe a delegatecall."""
    arrays = [list(call.args[k]) for k in ("targets", "values", "signatures", "calldatas")]
    delegate = list(call.args["withDelegatecalls"])
    summary = f"Queue {len(arrays[0])} action(s) on {call.where}"
    inner = _bravo_batch(call.by_target(), arrays, delegate)
    if inner is None:
        detail = "the queued arrays differ in length: the timelock will revert"
        return Outcome(summary, [flag("undecodable", "high", detail)])
    return Outcome(summary, inner=inner, join_inner=len(inner) == 1)


def _bravo_batch(
    maker: dict[str, Any],
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
            **maker,
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
    sender = _l2_alias(call.caller_address) if call.caller_address else None
    inner = InnerCall(
        call.addr("to"),
        call.uint("l2CallValue"),
        bytes(call.args["data"]),
        caller=caller,
        caller_address=sender,
    )
    return _cross_chain(call, chain, [_on(inner, chain)])


def _op_message(call: Call) -> Outcome:
    chain = OP_MESSENGERS.get(call.target.lower(), "an OP Stack chain")
    caller = f"{call.caller} (via the {chain} messenger)"
    inner = InnerCall(call.addr("_target"), 0, bytes(call.args["_message"]), caller=caller)
    return _cross_chain(call, chain, [_on(inner, chain)])


def _message(chain: str, to: str, value: str | None, data: str) -> Handler:
    """A bridge whose message is one call on the other chain: (to, value, calldata)."""

    def handle(call: Call) -> Outcome:
        caller = f"{call.caller} (via {chain}'s bridge)"
        amount = call.uint(value) if value else 0
        inner = InnerCall(call.addr(to), amount, bytes(call.args[data]), caller=caller)
        return _cross_chain(call, chain, [_on(inner, chain)])

    return handle


def _fx_message(call: Call) -> Outcome:
    """Polygon's FxPortal: the message is the receiver's own; DAO bridge executors (Aave,
    Compound) take a Bravo-style batch, which is opened when it decodes as one exactly."""
    chain = "Polygon"
    receiver = call.who("_receiver")
    maker = {"caller": receiver, "caller_address": call.addr("_receiver")}
    batch = _decode_batch(bytes(call.args["_data"]), maker, chain)
    if batch is None:
        note = f" for {receiver}: a message in its own format (not decoded)"
        outcome = _cross_chain(call, chain, [], note)
        outcome.flags.append(flag("undecodable", "warn", f"message to {receiver}: not decoded"))
        return outcome
    return _cross_chain(call, chain, batch, f" for {receiver}")


def _decode_batch(data: bytes, maker: dict[str, Any], chain: str) -> list[InnerCall] | None:
    for types in (_AAVE_BATCH, _BRAVO_BATCH):
        try:
            values = abi_decode(types, data)
        except (DecodingError, ValueError, OverflowError, TypeError, IndexError):
            continue
        delegate = list(values[4]) if len(values) == 5 else None
        batch = _bravo_batch(maker, [list(v) for v in values[:4]], delegate, chain=chain)
        if batch:
            return batch
    return None


def _on(inner: InnerCall, chain: str) -> InnerCall:
    return replace(inner, delegatecall=False, chain=chain)


ALIAS_OFFSET = 0x1111000000000000000000000000000000001111
"""Arbitrum's L1-to-L2 address alias: an L1 contract's calls arrive from address + offset."""


def _l2_alias(address: str) -> str:
    aliased = (int(address, 16) + ALIAS_OFFSET) % 2**160
    return to_checksum_address(aliased.to_bytes(20, "big"))


HANDLERS: dict[str, Handler] = {
    "container.safeExec": _safe_exec,
    "container.safeModuleExec": _safe_exec,
    "container.multiSend": _multi_send,
    "container.aaveQueue": _aave_queue,
    "bridge.retryable": _retryable,
    "bridge.opMessage": _op_message,
    "bridge.fxMessage": _fx_message,
    "bridge.toL1": _message("Ethereum", "destination", None, "data"),
    "bridge.zkSync": _message("zkSync Era", "contractL2", "l2Value", "calldata"),
    "bridge.gnosisAmb": _message("Gnosis", "_contract", None, "_data"),
    "bridge.scroll": _message("Scroll", "target", "value", "message"),
    "bridge.linea": _message("Linea", "_to", None, "_calldata"),
    "container.delegateExec": _delegate_exec,
    "container.executeCall": _execute_call,
    "container.rolesExec": _roles_exec,
}
