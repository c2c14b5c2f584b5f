"""The shapes handlers work with: a decoded call in, a summary, flags and inner calls out.

A handler knows what one kind of function means (`token.transfer`, `call.schedule`);
it never decodes bytes itself and never recurses: inner calls go back to `decode.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eth_abi.grammar import ABIType
from eth_utils import to_checksum_address

from agent.decode.context import Context
from agent.decode.models import ActionFlag
from agent.decode.names import bytes32_label, short_text
from agent.decode.signatures import Function
from agent.decode.values import clean_text, short


@dataclass(frozen=True)
class InnerCall:
    """A call this one makes or schedules: decoded like a proposal action, one level down."""

    target: str
    value: int
    calldata: bytes
    signature: str = ""
    caller: str = ""
    """Who makes it (a timelock, the governor, the same caller for a multicall)."""
    delegatecall: bool = False
    """The caller runs the target's code as its own (Safe operation 1, Aave executors)."""
    chain: str | None = None
    caller_address: str | None = None
    """The address that makes the call, when known (a container, or its own caller)."""
    """Set when a cross-chain message carries the call: the chain it runs on."""


@dataclass
class Outcome:
    summary: str
    flags: list[ActionFlag] = field(default_factory=list)
    inner: list[InnerCall] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    """Extra arg labels by parameter name, e.g. `amount` → `250,000 USDC`."""
    join_inner: bool = True
    """Append the inner call's summary to this one (`Schedule …: Transfer …`)."""


@dataclass(frozen=True)
class Call:
    """A call whose function is known and whose arguments decoded."""

    ctx: Context
    target: str
    value: int
    fn: Function
    args: dict[str, Any]
    caller: str
    delegatecall: bool = False
    """This call runs as a delegatecall: the calls it makes are made by `caller`."""
    caller_address: str | None = None

    def by_target(self) -> dict[str, Any]:
        """InnerCall fields for a call this contract makes itself (a timelock, a Safe)."""
        return {"caller": self.where, "caller_address": self.target}

    def by_caller(self) -> dict[str, Any]:
        """InnerCall fields for a call made by whoever made this one (multicall, upgrades)."""
        return {"caller": self.caller, "caller_address": self.caller_address}

    @property
    def where(self) -> str:
        """The target as a person reads it: a configured name or a short address."""
        return self.ctx.label(self.target)

    def addr(self, name: str) -> str:
        return to_checksum_address(self.args[name])

    def who(self, name: str) -> str:
        return self.ctx.label(self.addr(name))

    def uint(self, name: str) -> int:
        return int(self.args[name])

    def text(self, name: str, limit: int = 80) -> str:
        """A string argument, decoded leniently and stripped of hidden characters."""
        return clean_text(bytes(self.args[name]).decode("utf-8", "replace"), limit)

    def b32(self, name: str) -> str:
        """A bytes32 argument by what it names (role, ENS node), else its short hex."""
        value = bytes(self.args[name])
        hex_text = short("0x" + value.hex())
        label = bytes32_label(name, value)
        return f"{label} {hex_text}" if label == "unknown role" else label or hex_text


Handler = Callable[[Call], Outcome]


def generic_summary(call: Call) -> str:
    """`Call setFee(300) on Vault`: the function and its first few arguments."""
    pairs = zip(call.args.values(), call.fn.types, strict=True)
    shown = [_brief(call.ctx, value, abi_type) for value, abi_type in pairs]
    more = ", …" if len(shown) > 4 else ""
    return f"Call {call.fn.name}({', '.join(shown[:4])}{more}) on {call.where}"


def _brief(ctx: Context, value: Any, abi_type: ABIType) -> str:
    if abi_type.is_array:
        return f"[{len(value)} item(s)]"
    base = getattr(abi_type, "base", "")
    if base == "address":
        return ctx.label(to_checksum_address(value))
    if base == "string":
        return repr(clean_text(bytes(value).decode("utf-8", "replace"), 30))
    if isinstance(value, bytes):
        named = short_text(value) if len(value) == 32 else None
        return named or (short("0x" + value.hex()) if value else "0x")
    if isinstance(value, tuple):
        return "(…)"
    return str(value)
