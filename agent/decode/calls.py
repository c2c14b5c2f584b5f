"""The shapes handlers work with: a decoded call in, a summary, flags and inner calls out.

A handler knows what one kind of function means (`token.transfer`, `call.schedule`);
it never decodes bytes itself and never recurses: inner calls go back to `decode.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eth_utils import to_checksum_address

from agent.decode.context import Context
from agent.decode.models import ActionFlag
from agent.decode.names import bytes32_label
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
