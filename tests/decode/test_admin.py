"""Who-controls-what calls: governance settings, delays, roles, owners, upgrades, ENS."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from agent.decode import DecodedAction, RawAction, decode_actions
from agent.decode.names import namehash
from tests.decode.calldata import (
    ALICE,
    BOB,
    GOVERNOR,
    KNOWN,
    REGISTRY,
    STRANGER,
    TIMELOCK,
    TREASURY,
    bravo,
    oz,
    role,
    short,
)


def one(action: RawAction) -> DecodedAction:
    (decoded,) = decode_actions([action], KNOWN)
    return decoded


def kinds(action: DecodedAction) -> dict[str, str]:
    return {f.kind: f.severity for f in action.flags}


@pytest.mark.parametrize(
    ("action", "text"),
    [
        (oz(GOVERNOR, "setVotingDelay(uint48)", 7200), "voting delay of Governor to 7,200"),
        (oz(GOVERNOR, "setVotingPeriod(uint32)", 50400), "voting period of Governor to 50,400"),
        (oz(GOVERNOR, "setProposalThreshold(uint256)", 10**21), "proposal threshold"),
        (oz(GOVERNOR, "updateQuorumNumerator(uint256)", 4), "quorum numerator of Governor to 4"),
        (bravo(GOVERNOR, "_setVotingDelay(uint256)", 1), "voting delay of Governor to 1"),
        (bravo(GOVERNOR, "_setVotingPeriod(uint256)", 5760), "voting period"),
        (bravo(GOVERNOR, "_setProposalThreshold(uint256)", 5), "proposal threshold"),
    ],
)
def test_governance_parameters(action: RawAction, text: str) -> None:
    decoded = one(action)
    assert text in decoded.summary and kinds(decoded) == {"governance_parameter": "warn"}


def test_zero_quorum_and_a_new_timelock_are_high() -> None:
    assert (
        kinds(one(oz(GOVERNOR, "updateQuorumNumerator(uint256)", 0)))["governance_parameter"]
        == "high"
    )
    moved = one(oz(GOVERNOR, "updateTimelock(address)", STRANGER))
    assert kinds(moved) == {"governance_parameter": "high"} and "Move Governor" in moved.summary


@pytest.mark.parametrize(("delay", "severity"), [(3600, "high"), (0, "high"), (3 * 86_400, "warn")])
def test_a_shorter_timelock_delay_is_high(delay: int, severity: str) -> None:
    decoded = one(oz(TIMELOCK, "updateDelay(uint256)", delay))
    assert kinds(decoded) == {"timelock_delay": severity}
    assert "than 2 days" in decoded.summary
    compound = one(bravo(STRANGER, "setDelay(uint256)", delay))
    assert compound.flags[0].kind == "timelock_delay"


def test_role_hashes_are_named_and_critical_grants_are_high() -> None:
    proposer = one(oz(TIMELOCK, "grantRole(bytes32,address)", role("PROPOSER_ROLE"), ALICE))
    assert proposer.summary.startswith("Grant PROPOSER_ROLE on Timelock to")
    assert proposer.args[0].label == "PROPOSER_ROLE" and kinds(proposer) == {"role_change": "high"}
    admin = one(oz(TREASURY, "grantRole(bytes32,address)", role("DEFAULT_ADMIN_ROLE"), ALICE))
    assert "DEFAULT_ADMIN_ROLE" in admin.summary and admin.flags[0].severity == "high"
    spender = one(oz(TREASURY, "grantRole(bytes32,address)", role("SPENDER_ROLE"), ALICE))
    assert spender.flags[0].severity == "warn"
    revoke = one(oz(TIMELOCK, "revokeRole(bytes32,address)", role("EXECUTOR_ROLE"), ALICE))
    assert revoke.summary.startswith("Revoke EXECUTOR_ROLE") and revoke.flags[0].severity == "warn"
    renounce = one(oz(TREASURY, "renounceRole(bytes32,address)", bytes(32), TIMELOCK))
    assert renounce.flags[0].severity == "high"


def test_an_unknown_role_is_said_to_be_unknown() -> None:
    decoded = one(oz(TREASURY, "grantRole(bytes32,address)", keccak(text="SECRET"), ALICE))
    assert "unknown role 0x" in decoded.summary and decoded.args[0].label == "unknown role"


@pytest.mark.parametrize(
    ("action", "severity"),
    [
        (oz(STRANGER, "transferOwnership(address)", ALICE), "high"),
        (oz(STRANGER, "renounceOwnership()"), "high"),
        (oz(STRANGER, "acceptOwnership()"), "info"),
        (bravo(STRANGER, "setPendingAdmin(address)", ALICE), "high"),
        (bravo(GOVERNOR, "_setPendingAdmin(address)", ALICE), "high"),
        (bravo(TIMELOCK, "acceptAdmin()"), "info"),
        (oz(STRANGER, "changeAdmin(address)", ALICE), "high"),
        (oz(STRANGER, "changeProxyAdmin(address,address)", TREASURY, ALICE), "high"),
        (oz(STRANGER, "addOwnerWithThreshold(address,uint256)", ALICE, 3), "high"),
        (oz(STRANGER, "swapOwner(address,address,address)", BOB, ALICE, STRANGER), "high"),
    ],
)
def test_ownership_changes(action: RawAction, severity: str) -> None:
    assert kinds(one(action))["ownership_change"] == severity


def test_pending_admin_names_who() -> None:
    decoded = one(bravo(TIMELOCK, "setPendingAdmin(address)", GOVERNOR))
    assert decoded.summary == "Hand the pending admin role of Timelock to Governor"


@pytest.mark.parametrize(
    "action",
    [
        oz(STRANGER, "upgradeTo(address)", ALICE),
        oz(STRANGER, "upgradeToAndCall(address,bytes)", ALICE, b""),
        oz(STRANGER, "upgrade(address,address)", TREASURY, ALICE),
        bravo(GOVERNOR, "_setImplementation(address)", ALICE),
        oz(STRANGER, "setUpgradeContract(address)", ALICE),
    ],
)
def test_upgrades_are_high(action: RawAction) -> None:
    decoded = one(action)
    assert kinds(decoded)["upgrade"] == "high"


def test_proxy_admin_upgrade_names_the_proxy() -> None:
    decoded = one(oz(STRANGER, "upgrade(address,address)", TREASURY, ALICE))
    assert decoded.summary.startswith("Upgrade Treasury to the implementation")


def test_ens_registry_calls_name_nodes_and_labels() -> None:
    sub = one(
        oz(
            REGISTRY,
            "setSubnodeOwner(bytes32,bytes32,address)",
            namehash("eth"),
            keccak(text="ens"),
            ALICE,
        )
    )
    assert sub.summary.startswith("Set the owner of ens.eth to")
    assert sub.args[0].label == "eth" and sub.args[1].label == "ens"
    assert kinds(sub) == {"ownership_change": "warn"}
    node = one(oz(REGISTRY, "setOwner(bytes32,address)", namehash("ens.eth"), ALICE))
    assert "owner of ens.eth" in node.summary and kinds(node) == {"ownership_change": "high"}
    root = one(oz(STRANGER, "setSubnodeOwner(bytes32,address)", keccak(text="eth"), ALICE))
    assert "top-level domain eth" in root.summary and root.flags[0].severity == "high"


def test_resolver_text_is_decoded_and_hidden_characters_are_stripped() -> None:
    action = oz(
        STRANGER,
        "setText(bytes32,string,string)",
        namehash("ens.eth"),
        "url",
        "https://ens\u202e.domains\x07",
    )
    decoded = one(action)
    assert "\u202e" not in decoded.summary and "\x07" not in decoded.summary
    assert "'https://ens.domains'" in decoded.summary
    assert decoded.args[2].value == "https://ens<U+202E>.domains<U+0007>"


def test_controller_and_module_changes_are_role_changes() -> None:
    assert (
        kinds(one(oz(STRANGER, "setController(address,bool)", ALICE, True)))["role_change"]
        == "high"
    )
    assert (
        kinds(one(oz(STRANGER, "setController(address,bool)", ALICE, False)))["role_change"]
        == "warn"
    )
    assert kinds(one(oz(STRANGER, "enableModule(address)", ALICE)))["role_change"] == "high"


def test_table_functions_are_named_without_parameter_names() -> None:
    decoded = one(oz(STRANGER, "submit(address)", TREASURY))
    assert decoded.function == "submit(address)" and decoded.function_source == "table"
    assert decoded.summary == f"Call submit(Treasury) on {short(STRANGER)}"
    assert decoded.args[0].name == "arg0" and decoded.args[0].label == "Treasury"
    assert set(kinds(decoded)) == {"unknown_target"} and decoded.effect is None


def test_table_functions_with_a_meaning_are_flagged_by_it() -> None:
    decoded = one(oz(STRANGER, "setFeeTo(address)", TREASURY))
    assert decoded.summary == f"Call setFeeTo(Treasury) on {short(STRANGER)}"
    assert decoded.effect == "role_change" and kinds(decoded)["role_change"] == "warn"
    oracle = one(oz(STRANGER, "setAssetSources(address[],address[])", [ALICE], [BOB]))
    assert oracle.effect == "oracle_change" and kinds(oracle)["oracle_change"] == "high"
