"""Chain fixtures: an in-process eth-tester chain and a real anvil, each with the governor
sets deployed once per module and every test rolled back to that point afterwards.

- ``tester_w3``: eth-tester Web3 (py-evm, 20 funded unlocked accounts);
  ``tester_oz`` / ``tester_bravo``: the OpenZeppelin / Bravo sets on it.
- ``anvil_node``: an anvil process for the module; ``anvil_w3``: a Web3 on it;
  ``anvil_oz`` / ``anvil_bravo``: the sets on it.

Module-scoped deployments are made before the function-scoped snapshot (pytest sets up
higher scopes first), so whichever fixtures a test asks for, its changes are undone. The one
exception: ``request.getfixturevalue("tester_oz")`` inside a test that already holds
``tester_w3`` deploys after the snapshot, and the revert then loses the deployment.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import TypeVar

import pytest
from web3 import Web3

from tests.chain.anvil import AnvilNode, start_anvil
from tests.chain.deploy import BravoDeployment, Deployment, OzDeployment, deploy_bravo, deploy_oz
from tests.chain.evm import revert, snapshot

TESTER_ACCOUNTS = 20
D = TypeVar("D", bound=Deployment)


def tester_web3(accounts: int = TESTER_ACCOUNTS) -> Web3:
    """A fresh eth-tester chain (PyEVMBackend) with ``accounts`` funded, unlocked accounts."""
    from eth_tester import EthereumTester, PyEVMBackend
    from web3 import EthereumTesterProvider

    state = PyEVMBackend.generate_genesis_state(num_accounts=accounts)
    return Web3(EthereumTesterProvider(EthereumTester(PyEVMBackend(genesis_state=state))))


def _rolled_back(w3: Web3) -> Iterator[Web3]:
    snap = snapshot(w3)
    try:
        yield w3
    finally:
        revert(w3, snap)


def _fresh(dep: D) -> D:
    """The module's deployment with an empty proposal record (the chain was rolled back)."""
    return replace(dep, proposals={})


# ------------------------------------------------------------------ eth-tester
@pytest.fixture(scope="module")
def tester_module_w3() -> Web3:
    return tester_web3()


@pytest.fixture(scope="module")
def tester_module_oz(tester_module_w3: Web3) -> OzDeployment:
    return deploy_oz(tester_module_w3)


@pytest.fixture(scope="module")
def tester_module_bravo(tester_module_w3: Web3) -> BravoDeployment:
    return deploy_bravo(tester_module_w3)


@pytest.fixture
def tester_w3(tester_module_w3: Web3) -> Iterator[Web3]:
    """The module's eth-tester chain; whatever the test does is reverted after it."""
    yield from _rolled_back(tester_module_w3)


@pytest.fixture
def tester_oz(tester_module_oz: OzDeployment, tester_w3: Web3) -> OzDeployment:
    return _fresh(tester_module_oz)


@pytest.fixture
def tester_bravo(tester_module_bravo: BravoDeployment, tester_w3: Web3) -> BravoDeployment:
    return _fresh(tester_module_bravo)


# ----------------------------------------------------------------------- anvil
@pytest.fixture(scope="module")
def anvil_node() -> Iterator[AnvilNode]:
    """anvil on a free 127.0.0.1 port for the module (fails if `npm ci` was not run)."""
    with start_anvil() as node:
        yield node


@pytest.fixture(scope="module")
def anvil_module_w3(anvil_node: AnvilNode) -> Web3:
    return anvil_node.web3()


@pytest.fixture(scope="module")
def anvil_module_oz(anvil_module_w3: Web3) -> OzDeployment:
    return deploy_oz(anvil_module_w3)


@pytest.fixture(scope="module")
def anvil_module_bravo(anvil_module_w3: Web3) -> BravoDeployment:
    return deploy_bravo(anvil_module_w3)


@pytest.fixture
def anvil_w3(anvil_module_w3: Web3) -> Iterator[Web3]:
    """A Web3 on the module's anvil; evm_snapshot/evm_revert around the test."""
    yield from _rolled_back(anvil_module_w3)


@pytest.fixture
def anvil_oz(anvil_module_oz: OzDeployment, anvil_w3: Web3) -> OzDeployment:
    return _fresh(anvil_module_oz)


@pytest.fixture
def anvil_bravo(anvil_module_bravo: BravoDeployment, anvil_w3: Web3) -> BravoDeployment:
    return _fresh(anvil_module_bravo)
