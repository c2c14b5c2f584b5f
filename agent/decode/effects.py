"""What a function does, as one typed word, and the flag that meaning calls for.

Every known function has a `kind` (`token.transfer`, `effect.oracle_change`); its
effect follows from the kind alone, so a function means the same thing wherever it is
found: at the top level, inside a timelock batch, a Safe transaction or a message to
an L2. Functions the bundled table knows only by their types (`data/effects.json`)
get a generic handler per effect; those with named parameters get their own handler.
"""

from __future__ import annotations

from typing import get_args

from agent.decode.calls import Call, Handler, Outcome, generic_summary
from agent.decode.flags import flag
from agent.decode.models import Effect, FlagKind, Severity

EFFECTS: frozenset[str] = frozenset(get_args(Effect))

_BY_KIND: dict[str, Effect] = {
    "token.transfer": "outflow",
    "token.transferFrom": "outflow",
    "token.approve": "outflow",
    "token.increaseAllowance": "outflow",
    "token.decreaseAllowance": "none",
    "token.mint": "mint",
    "token.burn": "none",
    "token.burnFrom": "none",
    "nft.transfer": "outflow",
    "approvalForAll": "outflow",
    "treasury.release": "outflow",
    "treasury.recover": "outflow",
    "treasury.releaseETH": "outflow",
    "timelock.delay": "timelock_delay",
    "timelock.cancel": "none",
    "timelock.cancelTransaction": "none",
    "safe.threshold": "voting_rule",
    "plain": "none",
}
_BY_PREFIX: dict[str, Effect] = {
    "gov": "voting_rule",
    "call": "container",
    "container": "container",
    "bridge": "cross_chain",
    "ownership": "ownership_change",
    "role": "role_change",
    "upgrade": "upgrade",
    "safe": "ownership_change",
    "outflow": "outflow",
    "stream": "stream",
    "oracle": "oracle_change",
    "pause": "pause",
}
_ENS: dict[str, Effect] = {
    "ens.setOwner": "ownership_change",
    "ens.setRecord": "ownership_change",
    "ens.setSubnodeOwner": "ownership_change",
    "ens.setSubnodeRecord": "ownership_change",
    "ens.rootSubnodeOwner": "ownership_change",
}


def effect_of(kind: str | None) -> Effect | None:
    """The effect of a function kind; None for a function known by name only."""
    if not kind:
        return None
    if kind in _BY_KIND:
        return _BY_KIND[kind]
    if kind in _ENS:
        return _ENS[kind]
    head, _, tail = kind.partition(".")
    if head == "effect" and tail in EFFECTS:
        return tail  # type: ignore[return-value]
    if head == "ens":
        return "registry"
    return _BY_PREFIX.get(head)


_GENERIC: dict[str, tuple[FlagKind, Severity, str]] = {
    "upgrade": ("upgrade", "high", "changes the code of {where}"),
    "ownership_change": ("ownership_change", "high", "changes who controls {where}"),
    "role_change": ("role_change", "warn", "changes who may act on {where}"),
    "oracle_change": ("oracle_change", "high", "changes the prices {where} relies on"),
    "voting_rule": ("governance_parameter", "warn", "changes how {where} governs"),
    "timelock_delay": ("timelock_delay", "warn", "changes the delay of {where}"),
    "pause": ("pause", "warn", "pauses or unpauses part of {where}"),
    "outflow": ("treasury_outflow", "warn", "moves funds out of {caller}"),
    "stream": ("stream", "warn", "streams funds out of {caller}"),
    "mint": ("treasury_outflow", "warn", "creates new tokens"),
    "cross_chain": ("cross_chain", "warn", "sends a message or funds to another chain"),
}


def _generic(effect: str) -> Handler:
    kind, severity, text = _GENERIC[effect]

    def handle(call: Call) -> Outcome:
        summary = generic_summary(call)
        detail = f"{call.fn.name}: {text.format(where=call.where, caller=call.caller)}"
        return Outcome(summary, [flag(kind, severity, detail)])

    return handle


HANDLERS: dict[str, Handler] = {f"effect.{name}": _generic(name) for name in _GENERIC}
