"""The known ABIs and the bundled selector table: well-formed, and covering the contracts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_utils import keccak

from agent.decode.names import CRITICAL_ROLES, namehash, role_name
from agent.decode.selectors import known_functions, lookup, table_signatures
from agent.decode.signatures import parse_signature
from tests.conftest import PROJECT

ARTIFACTS = sorted((PROJECT / "contracts" / "artifacts").glob("*.json"))


def _writes(path: Path) -> list[dict]:
    abi = json.loads(path.read_text())["abi"]
    return [
        f
        for f in abi
        if f["type"] == "function" and f.get("stateMutability") not in ("view", "pure")
    ]


def _signature(fn: dict) -> str:
    return f"{fn['name']}({','.join(i['type'] for i in fn['inputs'])})"


def test_every_table_signature_is_canonical_and_selectors_do_not_collide() -> None:
    signatures = table_signatures()
    assert len(signatures) > 300
    by_selector: dict[bytes, str] = {}
    for text in signatures:
        fn = parse_signature(text)
        assert fn is not None and fn.signature == text, text
        assert by_selector.setdefault(fn.selector, text) == text, "selector collision"


def test_known_abis_parse_with_named_parameters() -> None:
    functions = known_functions()
    assert len(functions) > 90
    for fn in functions.values():
        assert fn.kind and fn.source == "abi"
        assert not any(name.startswith("arg") for name, _ in fn.params), fn.signature


@pytest.mark.parametrize("artifact", ARTIFACTS, ids=lambda p: p.stem)
def test_every_state_changing_function_of_the_test_contracts_is_named(artifact: Path) -> None:
    for fn in _writes(artifact):
        selector = keccak(text=_signature(fn))[:4]
        found = lookup(selector)
        assert found is not None and found.signature == _signature(fn), _signature(fn)


@pytest.mark.parametrize("artifact", ["Treasury", "UpgradeableBox", "TimelockController"])
def test_project_contracts_use_their_own_parameter_names(artifact: str) -> None:
    path = PROJECT / "contracts" / "artifacts" / f"{artifact}.json"
    for fn in _writes(path):
        known = known_functions().get(keccak(text=_signature(fn))[:4])
        if known is not None:
            assert [n for n, _ in known.params] == [i["name"] for i in fn["inputs"]], fn["name"]


def test_role_names_match_the_contracts() -> None:
    assert role_name(bytes(32)) == "DEFAULT_ADMIN_ROLE"
    for name in ("PROPOSER_ROLE", "EXECUTOR_ROLE", "CANCELLER_ROLE", "SPENDER_ROLE"):
        assert role_name(keccak(text=name)) == name
    assert {"DEFAULT_ADMIN_ROLE", "PROPOSER_ROLE", "EXECUTOR_ROLE"} <= CRITICAL_ROLES


def test_namehash_matches_eip_137() -> None:
    assert namehash("") == bytes(32)
    assert namehash("eth").hex() == (
        "93cdeb708b7545dc668eb9280176169d1c33cfd8ed6f04690a0bcc88a93fc4ae"
    )
