"""Who controls what: governance settings, timelock delays, roles, owners and upgrades.

These calls move no money but can hand the DAO's contracts to someone else, so most
are flagged: upgrades and hand-overs high, parameter changes as warnings.
"""

from __future__ import annotations

from agent.decode.calls import Call, Handler, InnerCall, Outcome
from agent.decode.flags import flag
from agent.decode.models import Severity
from agent.decode.names import CRITICAL_ROLES, ens_label, ens_node, role_name
from agent.decode.values import duration, short, utc_time

_IMPLEMENTATION = (
    "newImplementation",
    "implementation",
    "implementation_",
    "_upgradeAddress",
    "newPendingImplementation",
)


def _first(call: Call) -> str:
    """The first parameter's name: setters name theirs differently in each codebase."""
    return next(iter(call.args))


def _governance(what: str, zero_is_high: bool = False) -> Handler:
    """A governance setting; zero is high where it disables a safeguard (a zero quorum)."""

    def handle(call: Call) -> Outcome:
        value = call.uint(_first(call))
        summary = f"Set the {what} of {call.where} to {value:,}"
        level: Severity = "high" if zero_is_high and value == 0 else "warn"
        return Outcome(summary, [flag("governance_parameter", level, summary)])

    return handle


def _update_timelock(call: Call) -> Outcome:
    summary = f"Move {call.where} to the timelock {call.who('newTimelock')}"
    return Outcome(summary, [flag("governance_parameter", "high", summary)])


def _delay(call: Call) -> Outcome:
    """A shorter delay gives delegates less time to react to a bad proposal: high."""
    new = call.uint(_first(call))
    contract = call.ctx.contract(call.target)
    current = contract.delay if contract else None
    summary = f"Change the delay of {call.where} to {duration(new)}"
    if current is not None:
        summary += f" ({'shorter' if new < current else 'not shorter'} than {duration(current)})"
    shorter = new == 0 or (current is not None and new < current)
    return Outcome(summary, [flag("timelock_delay", "high" if shorter else "warn", summary)])


def _hand_over(verb: str) -> Handler:
    """Ownership or admin going to the address in the first argument: high."""

    def handle(call: Call) -> Outcome:
        summary = f"{verb} of {call.where} to {call.who(_first(call))}"
        return Outcome(summary, [flag("ownership_change", "high", summary)])

    return handle


def _accept(call: Call) -> Outcome:
    summary = f"{call.caller} accepts control of {call.where}"
    return Outcome(summary, [flag("ownership_change", "info", summary)])


def _renounce_ownership(call: Call) -> Outcome:
    summary = f"Renounce ownership of {call.where}: it will have no owner"
    return Outcome(summary, [flag("ownership_change", "high", summary)])


def _initialize(call: Call) -> Outcome:
    summary = f"Initialise {call.where} with owner {call.who('owner_')}"
    return Outcome(summary, [flag("ownership_change", "warn", summary)])


def _change_proxy_admin(call: Call) -> Outcome:
    summary = f"Hand the admin of proxy {call.who('proxy')} to {call.who('newAdmin')}"
    return Outcome(summary, [flag("ownership_change", "high", summary)])


def _role(call: Call) -> Outcome:
    verb = {"grantRole": "Grant", "revokeRole": "Revoke", "renounceRole": "Renounce"}
    action = verb.get(call.fn.name, call.fn.name)
    role = role_name(bytes(call.args["role"]))
    account = call.who("account" if "account" in call.args else "callerConfirmation")
    preposition = "to" if action == "Grant" else "from"
    summary = f"{action} {call.b32('role')} on {call.where} {preposition} {account}"
    lost_admin = action == "Renounce" and role == "DEFAULT_ADMIN_ROLE"
    high = role in CRITICAL_ROLES and (action == "Grant" or lost_admin)
    return Outcome(summary, [flag("role_change", "high" if high else "warn", summary)])


def _role_flag(verb: str, param: str, severity: Severity) -> Handler:
    def handle(call: Call) -> Outcome:
        summary = f"{verb} {call.who(param)} on {call.where}"
        return Outcome(summary, [flag("role_change", severity, summary)])

    return handle


def _whitelist(call: Call) -> Outcome:
    until = utc_time(call.uint("expiration"))
    summary = f"Whitelist {call.who('account')} as proposer on {call.where} until {until}"
    return Outcome(summary, [flag("role_change", "warn", summary)])


def _controller(call: Call) -> Outcome:
    enabled = bool(call.args["enabled"])
    verb = "Add" if enabled else "Remove"
    summary = f"{verb} {call.who('controller')} as controller of {call.where}"
    return Outcome(summary, [flag("role_change", "high" if enabled else "warn", summary)])


def _upgrade(call: Call) -> Outcome:
    impl = call.who(next(p for p in _IMPLEMENTATION if p in call.args))
    if call.fn.kind == "upgrade.contract":
        summary = f"Set the upgrade contract of {call.where} to {impl}"
    elif "proxy" in call.args:
        summary = f"Upgrade {call.who('proxy')} to the implementation {impl} (via {call.where})"
    else:
        summary = f"Upgrade {call.where} to the implementation {impl}"
    data = bytes(call.args.get("data", b""))
    if not data:
        return Outcome(summary, [flag("upgrade", "high", summary)])
    proxy = call.addr("proxy") if "proxy" in call.args else call.target
    inner = InnerCall(target=proxy, value=0, calldata=data, **call.by_caller())
    return Outcome(summary + " and call", [flag("upgrade", "high", summary)], inner=[inner])


def _become(call: Call) -> Outcome:
    """Compound: the new implementation accepts the Unitroller's pending upgrade."""
    summary = f"Make {call.where} the implementation of {call.who('unitroller')}"
    return Outcome(summary, [flag("upgrade", "high", summary)])


def _deploy_comet(call: Call) -> Outcome:
    """Comet's proxy admin deploys a new implementation from the configurator and upgrades."""
    summary = (
        f"Deploy a new implementation of {call.who('cometProxy')} from "
        f"{call.who('configuratorProxy')} and upgrade to it (via {call.where})"
    )
    return Outcome(summary, [flag("upgrade", "high", summary)])


def _node(call: Call, param: str = "node") -> str:
    value = bytes(call.args[param])
    return ens_node(value) or short("0x" + value.hex())


def _subnode(call: Call) -> str:
    label = bytes(call.args["label"])
    name = ens_label(label) or f"[{short('0x' + label.hex())}]"
    parent = _node(call)
    return name if parent == "[root]" else f"{name}.{parent}"


def _ens_owner(call: Call) -> Outcome:
    kind = call.fn.kind or ""
    sub = "Subnode" in kind
    name = _subnode(call) if sub else _node(call)
    summary = f"Set the owner of {name} to {call.who('owner')}"
    if "Record" in kind:
        summary += f", resolver {call.who('resolver')}"
    return Outcome(summary, [flag("ownership_change", "warn" if sub else "high", summary)])


def _root_subnode(call: Call) -> Outcome:
    label = bytes(call.args["label"])
    name = ens_label(label) or short("0x" + label.hex())
    summary = f"Set the owner of the top-level domain {name} to {call.who('owner')}"
    return Outcome(summary, [flag("ownership_change", "high", summary)])


def _ens_record(call: Call) -> Outcome:
    node = _node(call)
    if call.fn.kind == "ens.setResolver":
        return Outcome(f"Set the resolver of {node} to {call.who('resolver')}")
    if call.fn.kind == "ens.setText":
        key, value = call.text("key", 40), call.text("value", 80)
        return Outcome(f"Set the text record {key!r} of {node} to {value!r}")
    if call.fn.kind == "ens.setName":
        return Outcome(f"Set the name of {node} to {call.text('newName', 80)!r}")
    if call.fn.kind == "ens.setAddr" and "coinType" in call.args:
        return Outcome(f"Set the address of {node} for coin type {call.uint('coinType')}")
    if call.fn.kind == "ens.setAddr":
        return Outcome(f"Point {node} at {call.who('a')}")
    return Outcome(f"{call.fn.name} of {node} on {call.where}")


def _safe_owner(call: Call) -> Outcome:
    if call.fn.name == "swapOwner":
        summary = f"Replace owner {call.who('oldOwner')} of {call.where} by {call.who('newOwner')}"
        return Outcome(summary, [flag("ownership_change", "high", summary)])
    added = call.fn.name == "addOwnerWithThreshold"
    verb, threshold = ("Add" if added else "Remove"), call.uint("_threshold")
    summary = f"{verb} {call.who('owner')} as owner of {call.where}, threshold {threshold}"
    return Outcome(summary, [flag("ownership_change", "high" if added else "warn", summary)])


def _no_flag(verb: str) -> Handler:
    def handle(call: Call) -> Outcome:
        return Outcome(f"{verb} on {call.where}")

    return handle


HANDLERS: dict[str, Handler] = {
    "gov.votingDelay": _governance("voting delay"),
    "gov.votingPeriod": _governance("voting period"),
    "gov.threshold": _governance("proposal threshold (raw token units)"),
    "gov.quorum": _governance("quorum numerator", zero_is_high=True),
    "gov.lateQuorum": _governance("late-quorum vote extension"),
    "safe.threshold": _governance("signing threshold", zero_is_high=True),
    "gov.timelock": _update_timelock,
    "timelock.delay": _delay,
    "timelock.cancel": _no_flag("Cancel a scheduled operation"),
    "ownership.transfer": _hand_over("Transfer ownership"),
    "ownership.pendingAdmin": _hand_over("Hand the pending admin role"),
    "ownership.proxyAdmin": _hand_over("Hand the proxy admin"),
    "ownership.changeProxyAdmin": _change_proxy_admin,
    "ownership.renounce": _renounce_ownership,
    "ownership.accept": _accept,
    "ownership.initialize": _initialize,
    "role.grant": _role,
    "role.revoke": _role,
    "role.renounce": _role,
    "role.guardian": _role_flag("Make the whitelist guardian", "account", "warn"),
    "role.whitelist": _whitelist,
    "role.controller": _controller,
    "role.addController": _role_flag("Add as controller", "controller", "high"),
    "role.removeController": _role_flag("Remove as controller", "controller", "warn"),
    "role.enableModule": _role_flag("Enable the module", "module", "high"),
    "role.disableModule": _role_flag("Disable the module", "module", "warn"),
    "role.guard": _role_flag("Install the transaction guard", "guard", "high"),
    "upgrade.to": _upgrade,
    "upgrade.toAndCall": _upgrade,
    "upgrade.proxyAdmin": _upgrade,
    "upgrade.proxyAdminAndCall": _upgrade,
    "upgrade.implementation": _upgrade,
    "upgrade.contract": _upgrade,
    "upgrade.become": _become,
    "upgrade.deployComet": _deploy_comet,
    "ens.setOwner": _ens_owner,
    "ens.setRecord": _ens_owner,
    "ens.setSubnodeOwner": _ens_owner,
    "ens.setSubnodeRecord": _ens_owner,
    "ens.rootSubnodeOwner": _root_subnode,
    "ens.setResolver": _ens_record,
    "ens.setAddr": _ens_record,
    "ens.setText": _ens_record,
    "ens.setName": _ens_record,
    "ens.record": _ens_record,
    "safe.addOwner": _safe_owner,
    "safe.removeOwner": _safe_owner,
    "safe.swapOwner": _safe_owner,
}
