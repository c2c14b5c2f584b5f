"""Decode what an on-chain Governor proposal would execute, and flag what to look at.

The chain source calls `decode_actions` with a proposal's raw actions and stores
`actions_extra(...)` in `Proposal.extra`; hard rules, the CLI and chat read it back.
"""

from agent.decode.decode import actions_extra, decode_actions
from agent.decode.models import (
    ActionFlag,
    DecodedAction,
    DecodedArg,
    KnownContract,
    RawAction,
    TokenInfo,
)

__all__ = [
    "ActionFlag",
    "DecodedAction",
    "DecodedArg",
    "KnownContract",
    "RawAction",
    "TokenInfo",
    "actions_extra",
    "decode_actions",
]
