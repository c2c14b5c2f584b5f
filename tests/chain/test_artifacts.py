"""The committed contract artifacts (contracts/artifacts/) are usable by the chain tests.

Pure Python: loads the JSON, checks the ABIs carry the events and functions Steward reads with
the exact signatures of OZ Governor 5.x and Compound GovernorBravo, and that every contract
fits the EIP-170 / EIP-3860 size limits. Rebuilding and checking the artifacts themselves is
contracts/build.mjs's job (`node build.mjs --check`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "contracts" / "artifacts"
MAX_RUNTIME_SIZE = 24_576
MAX_INITCODE_SIZE = 49_152

EXPECTED_CONTRACTS = {
    "BravoGovernor",
    "BravoTimelock",
    "ERC1967Proxy",
    "Forwarder",
    "StewardGovernor",
    "StewardToken",
    "TimelockController",
    "Treasury",
    "TreasuryToken",
    "UpgradeableBox",
    "UpgradeableBoxV2",
}

# Human-readable signatures, as in OpenZeppelin's IGovernor (5.x).
OZ_EVENTS = [
    "event ProposalCanceled(uint256 proposalId)",
    "event ProposalCreated(uint256 proposalId, address proposer, address[] targets, "
    "uint256[] values, string[] signatures, bytes[] calldatas, uint256 voteStart, "
    "uint256 voteEnd, string description)",
    "event ProposalExecuted(uint256 proposalId)",
    "event ProposalQueued(uint256 proposalId, uint256 etaSeconds)",
    "event VoteCast(address indexed voter, uint256 proposalId, uint8 support, uint256 weight, "
    "string reason)",
    "event VoteCastWithParams(address indexed voter, uint256 proposalId, uint8 support, "
    "uint256 weight, string reason, bytes params)",
]

# As in Compound's GovernorBravoDelegate ABI.
BRAVO_EVENTS = [
    "event ProposalCanceled(uint256 id)",
    "event ProposalCreated(uint256 id, address proposer, address[] targets, uint256[] values, "
    "string[] signatures, bytes[] calldatas, uint256 startBlock, uint256 endBlock, "
    "string description)",
    "event ProposalExecuted(uint256 id)",
    "event ProposalQueued(uint256 id, uint256 eta)",
    "event VoteCast(address indexed voter, uint256 proposalId, uint8 support, uint256 votes, "
    "string reason)",
    "event VotingDelaySet(uint256 oldVotingDelay, uint256 newVotingDelay)",
    "event VotingPeriodSet(uint256 oldVotingPeriod, uint256 newVotingPeriod)",
    "event ProposalThresholdSet(uint256 oldProposalThreshold, uint256 newProposalThreshold)",
]
# Functions compared by name, input types, output types and mutability (parameter names of
# functions do not reach the chain).
BRAVO_FUNCTIONS = [
    "function cancel(uint256 proposalId)",
    "function castVote(uint256 proposalId, uint8 support)",
    "function castVoteWithReason(uint256 proposalId, uint8 support, string reason)",
    "function execute(uint256 proposalId) payable",
    "function getActions(uint256 proposalId) view returns (address[] targets, uint256[] values, "
    "string[] signatures, bytes[] calldatas)",
    "function getReceipt(uint256 proposalId, address voter) view returns "
    "(tuple(bool hasVoted, uint8 support, uint96 votes))",
    "function proposalCount() view returns (uint256)",
    "function proposalThreshold() view returns (uint256)",
    "function proposals(uint256 proposalId) view returns (uint256 id, address proposer, "
    "uint256 eta, uint256 startBlock, uint256 endBlock, uint256 forVotes, uint256 againstVotes, "
    "uint256 abstainVotes, bool canceled, bool executed)",
    "function propose(address[] targets, uint256[] values, string[] signatures, "
    "bytes[] calldatas, string description) returns (uint256)",
    "function queue(uint256 proposalId)",
    "function quorumVotes() view returns (uint256)",
    "function state(uint256 proposalId) view returns (uint8)",
    "function timelock() view returns (address)",
    "function votingDelay() view returns (uint256)",
    "function votingPeriod() view returns (uint256)",
    "function _setVotingDelay(uint256 newVotingDelay)",
    "function _setVotingPeriod(uint256 newVotingPeriod)",
    "function _setProposalThreshold(uint256 newProposalThreshold)",
]
OZ_FUNCTIONS = [
    "function state(uint256 proposalId) view returns (uint8)",
    "function proposalSnapshot(uint256 proposalId) view returns (uint256)",
    "function proposalDeadline(uint256 proposalId) view returns (uint256)",
    "function proposalEta(uint256 proposalId) view returns (uint256)",
    "function proposalProposer(uint256 proposalId) view returns (address)",
    "function proposalVotes(uint256 proposalId) view returns (uint256 againstVotes, "
    "uint256 forVotes, uint256 abstainVotes)",
    "function quorum(uint256 timepoint) view returns (uint256)",
    "function votingDelay() view returns (uint256)",
    "function votingPeriod() view returns (uint256)",
    "function hasVoted(uint256 proposalId, address account) view returns (bool)",
    "function timelock() view returns (address)",
]


def _load(name: str) -> dict[str, Any]:
    return json.loads((ARTIFACTS / f"{name}.json").read_text(encoding="utf-8"))


def _type(param: dict[str, Any], *, names: bool = True) -> str:
    kind = param["type"]
    if kind.startswith("tuple"):
        inner = ", ".join(_param(c, names=names) for c in param["components"])
        return f"tuple({inner}){kind[len('tuple') :]}"
    return kind


def _param(param: dict[str, Any], *, names: bool = True) -> str:
    parts = [_type(param, names=names)]
    if param.get("indexed"):
        parts.append("indexed")
    if names and param.get("name"):
        parts.append(param["name"])
    return " ".join(parts)


def _event(entry: dict[str, Any]) -> str:
    return f"event {entry['name']}({', '.join(_param(p) for p in entry['inputs'])})"


def _function_shape(entry: dict[str, Any]) -> str:
    """Name, types and mutability, without parameter names."""
    args = ", ".join(_param(p, names=False) for p in entry["inputs"])
    text = f"function {entry['name']}({args})"
    if entry["stateMutability"] in ("view", "pure", "payable"):
        text += " view" if entry["stateMutability"] == "pure" else f" {entry['stateMutability']}"
    if entry.get("outputs"):
        text += f" returns ({', '.join(_param(p, names=False) for p in entry['outputs'])})"
    return text


def _strip_names(signature: str) -> str:
    """Drop parameter names from a human-readable function signature."""
    return re.sub(r"(\w+(?:\[\d*\])*|\))( indexed)? [a-zA-Z_]\w*(?=[,)])", r"\1\2", signature)


def _events(abi: list[dict[str, Any]]) -> set[str]:
    return {_event(e) for e in abi if e["type"] == "event"}


def _functions(abi: list[dict[str, Any]]) -> set[str]:
    return {_function_shape(e) for e in abi if e["type"] == "function"}


def test_expected_artifacts_present_and_well_formed() -> None:
    names = {p.stem for p in ARTIFACTS.glob("*.json")}
    assert names == EXPECTED_CONTRACTS
    for name in sorted(names):
        text = (ARTIFACTS / f"{name}.json").read_text(encoding="utf-8")
        assert text.endswith("}\n")
        artifact = json.loads(text)
        assert artifact["contractName"] == name
        assert isinstance(artifact["abi"], list) and artifact["abi"]
        assert artifact["compiler"]["version"].startswith("0.8.28+")
        assert artifact["compiler"]["evmVersion"] == "cancun"
        assert artifact["compiler"]["optimizer"] == {"enabled": True, "runs": 200}
        for key in ("bytecode", "deployedBytecode"):
            assert re.fullmatch(r"0x([0-9a-f]{2})+", artifact[key]), (name, key)


@pytest.mark.parametrize("name", sorted(EXPECTED_CONTRACTS))
def test_bytecode_within_size_limits(name: str) -> None:
    artifact = _load(name)
    runtime = (len(artifact["deployedBytecode"]) - 2) // 2
    init = (len(artifact["bytecode"]) - 2) // 2
    assert 0 < runtime < MAX_RUNTIME_SIZE, (name, runtime)
    assert 0 < init <= MAX_INITCODE_SIZE, (name, init)


def test_oz_governor_has_the_events_and_views_steward_reads() -> None:
    abi = _load("StewardGovernor")["abi"]
    assert set(OZ_EVENTS) <= _events(abi)
    assert {_strip_names(f) for f in OZ_FUNCTIONS} <= _functions(abi)


def test_bravo_governor_matches_governor_bravo_interface() -> None:
    abi = _load("BravoGovernor")["abi"]
    assert set(BRAVO_EVENTS) <= _events(abi)
    assert {_strip_names(f) for f in BRAVO_FUNCTIONS} <= _functions(abi)


def test_strip_names_helper() -> None:
    assert (
        _strip_names("function f(uint256 a, address[] b) view returns (tuple(bool x) r)")
        == "function f(uint256, address[]) view returns (tuple(bool))"
    )


def test_support_contracts_expose_the_actions_proposals_make() -> None:
    token = _functions(_load("TreasuryToken")["abi"])
    assert "function transfer(address, uint256) returns (bool)" in token
    assert "function approve(address, uint256) returns (bool)" in token
    treasury = _functions(_load("Treasury")["abi"])
    assert "function grantRole(bytes32, address)" in treasury
    assert "function release(address, address, uint256)" in treasury
    box = _functions(_load("UpgradeableBox")["abi"])
    assert "function upgradeToAndCall(address, bytes) payable" in box
    assert "function initialize(address, uint256)" in box
    box_v2 = _functions(_load("UpgradeableBoxV2")["abi"])
    assert "function version() view returns (uint256)" in box_v2
    assert "function increment()" in box_v2
    votes = _functions(_load("StewardToken")["abi"])
    assert "function delegate(address)" in votes
    assert "function getPastVotes(address, uint256) view returns (uint256)" in votes
    assert "function mint(address, uint256)" in votes
    timelock = _events(_load("TimelockController")["abi"])
    assert any(e.startswith("event CallScheduled(") for e in timelock)
    bravo_timelock = _events(_load("BravoTimelock")["abi"])
    assert any(e.startswith("event QueueTransaction(") for e in bravo_timelock)
