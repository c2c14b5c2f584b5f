"""Decode what a Governor proposal would execute, and flag what a delegate must look at.

Pure and total: any input (huge, truncated, garbage calldata; odd signatures; a
thousand actions) gives a list of `DecodedAction`s, never an exception. What cannot
be decoded carries an `undecodable` flag and its raw hex, cut short.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from eth_abi.grammar import ABIType
from eth_utils import keccak, to_checksum_address

from agent.decode import admin, containers, effects, money, nested, tokens
from agent.decode.calls import Call, Handler, InnerCall, Outcome, generic_summary
from agent.decode.context import Context, index_known
from agent.decode.effects import effect_of
from agent.decode.flags import eth_value, ether, flag, unknown_target
from agent.decode.models import (
    ActionFlag,
    DecodedAction,
    DecodedArg,
    KnownContract,
    RawAction,
    TokenInfo,
)
from agent.decode.names import bytes32_label
from agent.decode.selectors import lookup
from agent.decode.signatures import Function, parse_signature
from agent.decode.values import (
    MAX_CALLDATA,
    MAX_RAW_SHOWN,
    UINT256_MAX,
    DecodeFailure,
    checksum,
    clean_text,
    decode_args,
    hex_bytes,
    human_amount,
    parse_hex,
    plain,
    to_json,
)

MAX_ACTIONS = 1000
"""Actions decoded per proposal, and inner calls per call; the rest is one flagged entry."""
MAX_DEPTH = 8
"""Calls inside calls: a Safe transaction in a timelock batch in a message to an L2 is 4."""
MAX_SUMMARY = 300
HANDLERS: dict[str, Handler] = {
    **tokens.HANDLERS,
    **admin.HANDLERS,
    **nested.HANDLERS,
    **effects.HANDLERS,
    **money.HANDLERS,
    **containers.HANDLERS,
}


def decode_actions(
    actions: Sequence[RawAction],
    known: Mapping[str, KnownContract] | Sequence[KnownContract] = (),
    token_info: Callable[[str], TokenInfo | None] | None = None,
    chain_id: int = 1,
    address_book: bool = True,
) -> list[DecodedAction]:
    """Decode a proposal's actions (at most MAX_ACTIONS; more is one flagged entry).

    `token_info(address)` may read symbol/decimals from chain; configured `known`
    contracts win over it. It returns None for a non-token; what it raises propagates
    (an unreachable node is not a token without decimals). `chain_id` picks the bundled
    address book's entries (calls carried to an L2 use that chain's)."""
    ctx = Context(index_known(known), token_info, home_chain=chain_id, use_book=address_book)
    return _decode_list(ctx, [_inner_of(a) for a in actions[: MAX_ACTIONS + 1]], 0, len(actions))


def actions_extra(decoded: Sequence[DecodedAction]) -> dict[str, Any]:
    """What to store in `Proposal.extra`: the actions, and every flag in one flat list
    (`action` is the 1-based path a person sees, e.g. `2.1` for the first inner call)."""
    return {
        "actions": [a.model_dump(mode="json") for a in decoded],
        "action_flags": [
            {"action": path, **f.model_dump(mode="json", exclude_defaults=True)}
            for path, f in _flags_with_paths(decoded, "")
        ],
    }


def _flags_with_paths(actions: Sequence[DecodedAction], prefix: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, ActionFlag]] = []
    for position, action in enumerate(actions, 1):
        path = f"{prefix}{position}"
        out += [(path, f) for f in action.flags]
        out += _flags_with_paths(action.inner, f"{path}.")
    return out


def _inner_of(action: RawAction) -> InnerCall | DecodedAction:
    """A proposal action as an inner call, or already an `undecodable` entry."""
    text = action.calldata
    if len(text) > 2 * MAX_CALLDATA + 2:
        head = parse_hex(text[:10], 4) or b""
        fn = lookup(head) if len(head) == 4 and not action.signature else None
        name = f" ({fn.signature})" if fn else ""
        detail = f"calldata of about {len(text) // 2:,} bytes{name}: over the cap, not decoded"
        return _broken(0, action.target, detail, action.value, head)
    data = parse_hex(text, MAX_CALLDATA)
    if data is None:
        return _broken(0, action.target, "calldata is not hex", action.value)
    return InnerCall(
        action.target, action.value, data, action.signature, delegatecall=action.delegatecall
    )


def _decode_list(
    ctx: Context,
    calls: Sequence[InnerCall | DecodedAction],
    depth: int,
    total: int,
    parent: str | None = None,
) -> list[DecodedAction]:
    """Up to MAX_ACTIONS calls (`total` is how many there were); the rest is one entry."""
    out: list[DecodedAction] = []
    for index, call in enumerate(calls[:MAX_ACTIONS]):
        if isinstance(call, DecodedAction):
            out.append(call.model_copy(update={"index": index}))
        elif not ctx.spend():
            out.append(_broken(index, call.target, "too many calls in all: the rest not decoded"))
            break
        else:
            with ctx.on_chain(call.chain):
                out.append(_decode_call(ctx, index, call, depth, parent))
    if total > MAX_ACTIONS and len(calls) > MAX_ACTIONS:
        detail = f"{total - MAX_ACTIONS} more call(s) not decoded (at most {MAX_ACTIONS} are)"
        out.append(_broken(MAX_ACTIONS, calls[MAX_ACTIONS].target, detail))
    return out


def _broken(
    index: int, target: str, detail: str, value: int = 0, raw: bytes | None = None
) -> DecodedAction:
    return DecodedAction(
        index=index,
        target=checksum(target) or clean_text(target, 42),
        value_wei=str(value),
        value_eth=_eth(value),
        summary=clean_text(detail, MAX_SUMMARY),
        flags=[flag("undecodable", "high", clean_text(detail, MAX_SUMMARY))],
        raw=hex_bytes(raw, MAX_RAW_SHOWN) if raw else None,
    )


def _eth(value: int) -> str:
    return plain(human_amount(value, 18)) if 0 <= value <= UINT256_MAX else str(value)


@dataclass(frozen=True)
class _Frame:
    """One call being decoded: where, by whom, how deep, and the fields known so far."""

    ctx: Context
    call: InnerCall
    caller: str
    depth: int
    base: dict[str, Any]

    @property
    def where(self) -> str:
        return self.ctx.label(self.base["target"])


class _Identified(NamedTuple):
    fn: Function | None
    selector: bytes | None
    data: bytes
    """The ABI-encoded arguments alone."""
    notes: list[ActionFlag]


def _decode_call(
    ctx: Context, index: int, call: InnerCall, depth: int, parent: str | None = None
) -> DecodedAction:
    target = checksum(call.target)
    if target is None:
        return _broken(index, call.target, "the target is not an address", 0, call.calldata)
    if not 0 <= call.value <= UINT256_MAX:
        return _broken(index, target, f"value {call.value} is not a uint256", 0, call.calldata)
    base: dict[str, Any] = {
        "index": index,
        "target": target,
        "target_name": ctx.name(target),
        "value_wei": str(call.value),
        "value_eth": _eth(call.value),
        "delegatecall": call.delegatecall,
        "chain": call.chain,
        "caller": checksum(call.caller_address) if call.caller_address else None,
    }
    frame = _Frame(ctx, call, call.caller or ctx.executor, depth, base)
    flags = [eth_value(ctx, call.value, target)] if call.value else []
    if not call.signature and not call.calldata:
        decoded = _plain_call(frame, flags)
    else:
        decoded = _with_function(frame, _identify(call), flags)
    extra = [_delegatecall(frame, decoded)] if call.delegatecall else []
    if ctx.contract(target) is None and target != parent:
        extra.append(unknown_target(ctx, target))
    if extra:
        decoded = decoded.model_copy(update={"flags": [*decoded.flags, *extra]})
    return decoded


def _delegatecall(frame: _Frame, decoded: DecodedAction) -> ActionFlag:
    """Foreign code with the caller's full authority: high, unless it is a batch library
    whose every call is opened here (a Safe running MultiSend)."""
    caller = frame.caller
    detail = (
        f"{caller} runs the code of {frame.where} as its own (delegatecall): it acts with "
        f"{caller}'s storage, funds and permissions"
    )
    opened = decoded.effect == "container" and bool(decoded.inner)
    return flag("delegatecall", "info" if opened else "high", detail)


def _plain_call(frame: _Frame, flags: list[ActionFlag]) -> DecodedAction:
    """No calldata: a plain ETH transfer, or a bare call to a fallback function."""
    if frame.call.value:
        summary = f"Send {ether(frame.call.value).text} from {frame.caller} to {frame.where}"
    else:
        summary = f"Call {frame.where} with no data and no value"
        flags.append(flag("unknown_function", "warn", "calls the contract's fallback function"))
    return DecodedAction(**frame.base, summary=clean_text(summary, MAX_SUMMARY), flags=flags)


def _identify(call: InnerCall) -> _Identified:
    return _by_signature(call) if call.signature else _by_selector(call)


def _by_selector(call: InnerCall) -> _Identified:
    """OpenZeppelin style: the calldata starts with the selector."""
    if len(call.calldata) < 4:
        return _Identified(None, None, b"", [flag("undecodable", "high", "calldata under 4 bytes")])
    selector = call.calldata[:4]
    fn = lookup(selector)
    missing = f"selector 0x{selector.hex()} is not in Steward's tables"
    notes = [] if fn else [flag("unknown_function", "high", missing)]
    return _Identified(fn, selector, call.calldata[4:], notes)


def _by_signature(call: InnerCall) -> _Identified:
    """Bravo style: the selector is keccak of the exact signature text; calldata is args."""
    signature = call.signature
    selector = keccak(signature.encode("utf-8", "surrogatepass"))[:4]
    notes: list[ActionFlag] = []
    if call.calldata[:4] == selector and len(call.calldata) % 32 == 4:
        detail = "calldata repeats the selector: the call may fail"
        notes.append(flag("undecodable", "warn", detail))
    known = lookup(selector)
    if known is not None:
        return _Identified(known, selector, call.calldata, notes)
    parsed = parse_signature(signature, source="signature")
    shown = clean_text(signature, 120)
    if parsed is None:
        notes.append(flag("undecodable", "high", f"the signature {shown!r} does not parse"))
    elif parsed.signature != signature:
        detail = f"the signature {shown!r} is not canonical ({parsed.signature}): its selector "
        notes.append(flag("unknown_function", "high", detail + "matches no known function"))
    else:
        detail = (
            f"{shown} is named by the proposal's own signature, not in Steward's tables: "
            "arguments decoded by its types, what it does is not known"
        )
        notes.append(flag("unknown_function", "info", detail))
    return _Identified(parsed, selector, call.calldata, notes)


def _with_function(frame: _Frame, found: _Identified, flags: list[ActionFlag]) -> DecodedAction:
    flags = flags + found.notes
    base = {**frame.base, "selector": "0x" + found.selector.hex() if found.selector else None}
    raw = hex_bytes(frame.call.calldata, MAX_RAW_SHOWN)
    fn = found.fn
    if fn is None:
        summary = f"Call an unknown function on {frame.where}"
        return DecodedAction(**base, summary=summary, flags=flags, raw=raw)
    base |= {
        "function": fn.signature,
        "function_source": fn.source,
        "effect": effect_of(fn.kind),
    }
    try:
        values = decode_args(fn.types, found.data)
    except DecodeFailure as exc:
        flags.append(flag("undecodable", "high", str(exc)))
        summary = f"Call {fn.name} on {frame.where} (arguments do not decode)"
        return DecodedAction(**base, summary=summary, flags=flags, raw=raw)
    args = dict(zip((name for name, _ in fn.params), values, strict=True))
    call = Call(
        frame.ctx,
        base["target"],
        frame.call.value,
        fn,
        args,
        frame.caller,
        frame.call.delegatecall,
        base["caller"],
    )
    handler = HANDLERS.get(fn.kind or "")
    outcome = handler(call) if handler else Outcome(generic_summary(call))
    inner = _nested(frame.ctx, outcome, frame.depth, base["target"], flags, frame.call.chain)
    summary = outcome.summary
    if outcome.join_inner and len(inner) == 1:
        summary = f"{summary}: {inner[0].summary}"
    return DecodedAction(
        **base,
        args=_args(frame.ctx, fn.params, values, outcome.labels),
        summary=clean_text(summary, MAX_SUMMARY),
        inner=inner,
        flags=flags + outcome.flags,
    )


def _nested(
    ctx: Context,
    outcome: Outcome,
    depth: int,
    target: str,
    flags: list[ActionFlag],
    chain: str | None = None,
) -> list[DecodedAction]:
    if not outcome.inner:
        return []
    if depth >= MAX_DEPTH:
        detail = f"calls nested deeper than {MAX_DEPTH} levels are not decoded"
        flags.append(flag("undecodable", "high", detail))
        return []
    calls = [c if c.chain or not chain else replace(c, chain=chain) for c in outcome.inner]
    calls = calls[: MAX_ACTIONS + 1]
    return _decode_list(ctx, calls, depth + 1, len(outcome.inner), parent=target)


def _args(
    ctx: Context,
    params: Sequence[tuple[str, ABIType]],
    values: Sequence[Any],
    labels: Mapping[str, str],
) -> list[DecodedArg]:
    return [
        DecodedArg(
            name=name,
            type=abi_type.to_type_str(),
            value=to_json(value, abi_type),
            label=labels.get(name) or _label(ctx, name, abi_type, value),
        )
        for (name, abi_type), value in zip(params, values, strict=True)
    ]


def _label(ctx: Context, name: str, abi_type: ABIType, value: Any) -> str | None:
    """Names for addresses (configured contracts) and 32-byte values (roles, ENS nodes)."""
    base = getattr(abi_type, "base", "")
    if base == "address" and abi_type.is_array:
        names = [ctx.name(to_checksum_address(v)) or "?" for v in list(value)[:20]]
        return ", ".join(names) if any(n != "?" for n in names) else None
    if base == "address":
        return ctx.name(to_checksum_address(value))
    if base == "bytes" and getattr(abi_type, "sub", None) == 32 and not abi_type.is_array:
        return bytes32_label(name, bytes(value))
    return None
