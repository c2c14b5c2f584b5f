"""Names for the 32-byte values proposals pass around: access-control roles and ENS nodes.

A role hash on its own says nothing to a delegate; `PROPOSER_ROLE` says who may
queue proposals. Hashes are computed once, from the names, so the table cannot drift.
"""

from __future__ import annotations

from functools import cache

from eth_utils import keccak

ZERO32 = bytes(32)

_ROLES = (
    "PROPOSER_ROLE",
    "EXECUTOR_ROLE",
    "CANCELLER_ROLE",
    "TIMELOCK_ADMIN_ROLE",
    "MINTER_ROLE",
    "PAUSER_ROLE",
    "SPENDER_ROLE",
    "UPGRADER_ROLE",
    "BURNER_ROLE",
    "ADMIN_ROLE",
    "OPERATOR_ROLE",
    "GUARDIAN_ROLE",
    "MANAGER_ROLE",
    "GOVERNOR_ROLE",
    "TREASURER_ROLE",
    "SNAPSHOT_ROLE",
    "URI_SETTER_ROLE",
    "EMERGENCY_ROLE",
    "KEEPER_ROLE",
    "RELAYER_ROLE",
    "ORACLE_ROLE",
    "WITHDRAWER_ROLE",
    "DEPOSITOR_ROLE",
    "STRATEGIST_ROLE",
    "REWARDS_ROLE",
    "FEE_MANAGER_ROLE",
    "CONFIGURATOR_ROLE",
    "RISK_ADMIN_ROLE",
    "POOL_ADMIN_ROLE",
    "EMERGENCY_ADMIN_ROLE",
    "ASSET_LISTING_ADMIN_ROLE",
    "BRIDGE_ROLE",
    "CONTROLLER_ROLE",
)
CRITICAL_ROLES = frozenset(
    {"DEFAULT_ADMIN_ROLE", "PROPOSER_ROLE", "EXECUTOR_ROLE", "TIMELOCK_ADMIN_ROLE"}
    | {"ADMIN_ROLE", "UPGRADER_ROLE"}
)
"""Granting one of these hands over control of the contract or of the DAO's queue."""

_ENS_NAMES = ("eth", "reverse", "addr.reverse", "ens.eth", "arpa", "xyz", "art", "club")
_ENS_LABELS = ("eth", "reverse", "addr", "ens", "arpa", "xyz", "art", "club", "kred", "luxe")


@cache
def _role_table() -> dict[bytes, str]:
    table = {keccak(text=name): name for name in _ROLES}
    table[ZERO32] = "DEFAULT_ADMIN_ROLE"
    return table


def namehash(name: str) -> bytes:
    """ENS namehash (EIP-137) of an already normalised name."""
    node = ZERO32
    for label in reversed(name.split(".") if name else []):
        node = keccak(node + keccak(text=label))
    return node


@cache
def _node_table() -> dict[bytes, str]:
    table = {namehash(name): name for name in _ENS_NAMES}
    table[ZERO32] = "[root]"
    return table


@cache
def _label_table() -> dict[bytes, str]:
    return {keccak(text=label): label for label in _ENS_LABELS}


def role_name(value: bytes) -> str | None:
    return _role_table().get(value)


def ens_node(value: bytes) -> str | None:
    return _node_table().get(value)


def ens_label(value: bytes) -> str | None:
    return _label_table().get(value)


def bytes32_label(param: str, value: bytes) -> str | None:
    """What a bytes32 argument is, judged by its parameter's name (`role`, `node`, `label`)."""
    lowered = param.lower()
    if "role" in lowered:
        return role_name(value) or "unknown role"
    if "node" in lowered:
        return ens_node(value)
    if "label" in lowered:
        return ens_label(value)
    return None if value == ZERO32 else role_name(value) or short_text(value)


def short_text(value: bytes) -> str | None:
    """A bytes32 that is a short text (Zodiac Roles keys like `MANAGER`), quoted."""
    text = value.rstrip(b"\0")
    if len(text) < 3 or not all(0x20 < c < 0x7F for c in text):
        return None
    return repr(text.decode("ascii"))
