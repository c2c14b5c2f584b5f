"""The local-chain harness in one import, for chain tests, the demo and the benchmark.

    from tests.chain.harness import deploy_oz, lifecycle, propose, vote, Support

Where things live:

| module | what |
| --- | --- |
| ``evm`` | backend differences: ``transact``/``read`` (explicit gas, ``Reverted``), ``mine``, ``advance_to``, ``snapshot``/``revert`` |
| ``contracts`` | artifacts as web3 contracts; revert data decoded to names |
| ``deploy`` | ``deploy_oz``, ``deploy_bravo`` and their ``Assets`` (USDC, ETH, Treasury, box) |
| ``actions`` | real proposal actions: token transfer, role grant, UUPS upgrade, ETH, parameter change |
| ``scenario`` | ``propose``, ``vote``, ``queue``, ``execute``, ``cancel``, ``state``, mining to a window |
| ``lifecycle`` | one proposal in each end state, with what to expect |
| ``anvil`` | ``start_anvil``, ``reorg``, ``set_next_timestamp``, ``set_automine`` |
| ``bulk`` | thousands of transactions on anvil in batches (benchmark) |
| ``demo_chain`` | ``python -m tests.chain.demo_chain``: a populated anvil + Steward config |
"""  # noqa: E501

from __future__ import annotations

from .actions import (
    Action,
    call_action,
    grant_spender,
    send_eth,
    set_voting_period,
    transfer_token,
    upgrade_box,
)
from .anvil import (
    AnvilNode,
    AnvilNotInstalled,
    reorg,
    set_automine,
    set_next_timestamp,
    start_anvil,
)
from .deploy import (
    Assets,
    BravoDeployment,
    Deployment,
    OzDeployment,
    deploy_bravo,
    deploy_oz,
)
from .evm import (
    Reverted,
    advance_time,
    advance_to,
    is_eth_tester,
    mine,
    mine_to,
    read,
    revert,
    snapshot,
    transact,
)
from .lifecycle import Expected, lifecycle
from .scenario import (
    CastVote,
    ProposalState,
    Support,
    cancel,
    eta,
    execute,
    mine_until_active,
    mine_until_ended,
    propose,
    queue,
    state,
    vote,
    voting_window,
)

__all__ = [
    "Action",
    "AnvilNode",
    "AnvilNotInstalled",
    "Assets",
    "BravoDeployment",
    "CastVote",
    "Deployment",
    "Expected",
    "OzDeployment",
    "ProposalState",
    "Reverted",
    "Support",
    "advance_time",
    "advance_to",
    "call_action",
    "cancel",
    "deploy_bravo",
    "deploy_oz",
    "eta",
    "execute",
    "grant_spender",
    "is_eth_tester",
    "lifecycle",
    "mine",
    "mine_to",
    "mine_until_active",
    "mine_until_ended",
    "propose",
    "queue",
    "read",
    "reorg",
    "revert",
    "send_eth",
    "set_automine",
    "set_next_timestamp",
    "set_voting_period",
    "snapshot",
    "start_anvil",
    "state",
    "transact",
    "transfer_token",
    "upgrade_box",
    "vote",
    "voting_window",
]
