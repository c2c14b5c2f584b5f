"""What goes into the decoder (raw Governor actions) and what comes out (decoded actions).

Everything is frozen and JSON-safe: decoded actions are stored verbatim in
`Proposal.extra.actions` and read back by the hard rules, the CLI and the chat.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

from agent.models import ContractKind

FlagKind = Literal[
    "treasury_outflow",
    "stream",
    "eth_value",
    "upgrade",
    "role_change",
    "ownership_change",
    "governance_parameter",
    "timelock_delay",
    "oracle_change",
    "pause",
    "delegatecall",
    "cross_chain",
    "unknown_target",
    "unknown_function",
    "undecodable",
]
Severity = Literal["info", "warn", "high"]
Effect = Literal[
    "outflow",
    "stream",
    "mint",
    "upgrade",
    "ownership_change",
    "role_change",
    "oracle_change",
    "voting_rule",
    "timelock_delay",
    "pause",
    "risk_parameter",
    "registry",
    "container",
    "cross_chain",
    "none",
]
"""What a function does, whatever contract it is found on: the vocabulary flags and hard
rules are derived from (`agent/decode/effects.py`). `none`: named, nothing to look at."""
FunctionSource = Literal["abi", "table", "signature"]
"""How a function was named: a known ABI (with parameter names), the bundled selector
table (types only), or only the proposal's own Bravo signature string."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RawAction(_Frozen):
    """One action of a Governor proposal, as the chain states it.

    `calldata` is 0x-hex; bytes are accepted too (web3 returns them) and turned into hex.
    """

    target: str
    value: int
    signature: str = ""
    calldata: str = "0x"
    delegatecall: bool = False
    """Aave-style executors can run an action as a delegatecall: the target's code runs
    with the executor's storage and authority."""

    @field_validator("calldata", mode="before")
    @classmethod
    def _hex(cls, value: object) -> object:
        if isinstance(value, bytes | bytearray | memoryview):
            return "0x" + bytes(value).hex()
        return value


class KnownContract(_Frozen):
    """A contract the delegate's configuration names (config wins over what the chain says)."""

    address: str
    name: str
    kind: ContractKind = "other"
    symbol: str | None = None
    decimals: int | None = None
    delay: int | None = None
    """For a timelock: its current delay in seconds, if known, so a shorter one is flagged high."""
    underlying: str | None = None
    """For a market's receipt token (a cToken, an aToken): the token it holds; `ETH` for ether."""


class TokenInfo(_Frozen):
    symbol: str
    decimals: int


class ActionFlag(_Frozen):
    """Something a delegate must look at; outflows carry the numbers the hard rules check."""

    kind: FlagKind
    severity: Severity
    detail: str
    token: str | None = None
    """Symbol of the token that leaves (ETH for ether); None when unknown."""
    token_address: str | None = None
    amount: str | None = None
    """Human units as a plain decimal string (`250000.5`); None when decimals are unknown."""
    amount_raw: str | None = None
    recipient: str | None = None
    unlimited: bool = False
    token_id: str | None = None
    """For NFTs: which one."""


class DecodedArg(_Frozen):
    name: str
    type: str
    value: JsonValue
    """Ints as decimal strings, bytes as 0x-hex, addresses checksummed, arrays as lists."""
    label: str | None = None
    """What the value means, when known: a contract's name, a role, an ENS name, an amount."""


class DecodedAction(_Frozen):
    index: int
    target: str
    target_name: str | None = None
    value_wei: str = "0"
    value_eth: str = "0"
    selector: str | None = None
    function: str | None = None
    """Canonical signature, e.g. `transfer(address,uint256)`; None if unknown or plain ETH."""
    function_source: FunctionSource | None = None
    effect: Effect | None = None
    """What the function does; None when Steward does not know (or there is no function)."""
    delegatecall: bool = False
    """Run as a delegatecall: the target's code acts with the caller's storage and authority."""
    chain: str | None = None
    """The chain this call runs on when a cross-chain message carries it (None: the proposal's)."""
    caller: str | None = None
    """The address that makes this call, when known: None for a proposal's own actions
    (its executor: the timelock) and where a bridge hides the sender."""
    args: list[DecodedArg] = Field(default_factory=list)
    summary: str
    inner: list[DecodedAction] = Field(default_factory=list)
    flags: list[ActionFlag] = Field(default_factory=list)
    raw: str | None = None
    """Truncated calldata hex, kept when the arguments could not be decoded."""

    def walk(self) -> list[DecodedAction]:
        """This action and every nested one, depth first."""
        out = [self]
        for child in self.inner:
            out += child.walk()
        return out
