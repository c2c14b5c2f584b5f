"""A ready-made mix of proposals in every end state, for ingestion tests to compare against.

``lifecycle(dep)`` leaves on the chain: a treasury transfer (USDC + ETH), a role grant and a
contract upgrade, each executed; one defeated; one canceled; one still active with votes.
It returns what each should end as, with the votes as the chain recorded them.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_typing import ChecksumAddress
from web3 import Web3

from .actions import Action, grant_spender, send_eth, transfer_token, upgrade_box
from .deploy import Deployment
from .scenario import (
    CastVote,
    ProposalState,
    Support,
    cancel,
    execute,
    mine_until_active,
    mine_until_ended,
    propose,
    queue,
    vote,
)

WORKING_GROUP = Web3.to_checksum_address("0x" + "00" * 18 + "beef")
"""Receives the executed transfer; starts with no USDC and no ETH."""
NEW_STEWARD = Web3.to_checksum_address("0x" + "00" * 18 + "cafe")
"""Gets SPENDER_ROLE on the Treasury."""
GRANT_USDC = 250_000 * 10**6
GRANT_ETH = 5 * 10**18
MIN_VOTING_PERIOD = 20


@dataclass(frozen=True)
class Expected:
    """What a lifecycle proposal should look like once everything has been mined."""

    proposal_id: int
    state: ProposalState
    description: str
    actions: tuple[Action, ...]
    votes: tuple[CastVote, ...]


def _descriptions(dep: Deployment) -> dict[str, str]:
    kind = "OpenZeppelin" if dep.kind == "oz" else "Bravo"
    return {
        "transfer": f"# Fund the Meta-Governance working group\n\n{kind}: 250,000 USDC and 5 ETH.",
        "grant": f"# Appoint a new treasury steward\n\n{kind}: grant SPENDER_ROLE.",
        "upgrade": f"# Upgrade the box to V2\n\n{kind}: UUPS upgrade adding increment().",
        "defeated": f"# Send the whole treasury away\n\n{kind}: voters should reject this.",
        "canceled": f"# Withdrawn draft\n\n{kind}: canceled by its proposer.",
        "active": f"# Top up the grants budget\n\n{kind}: still being voted on.",
    }


def _actions(dep: Deployment) -> dict[str, tuple[Action, ...]]:
    usdc, assets = dep.assets.usdc, dep.assets
    return {
        "transfer": (
            transfer_token(usdc, WORKING_GROUP, GRANT_USDC, symbol="USDC"),
            send_eth(WORKING_GROUP, GRANT_ETH),
        ),
        "grant": (grant_spender(assets.treasury, NEW_STEWARD),),
        "upgrade": (upgrade_box(assets.box, assets.box_v2.address),),
        "defeated": (transfer_token(usdc, WORKING_GROUP, 10_000_000 * 10**6, symbol="USDC"),),
        "canceled": (send_eth(WORKING_GROUP, 1),),
        "active": (transfer_token(usdc, WORKING_GROUP, 50_000 * 10**6, symbol="USDC"),),
    }


def _ballots(
    dep: Deployment, a: ChecksumAddress, b: ChecksumAddress, c: ChecksumAddress
) -> dict[str, list[tuple[ChecksumAddress, Support, str, bytes | None]]]:
    """Who votes how; with equal balances these give the intended outcomes."""
    params = b"\x01" if dep.kind == "oz" else None  # exercises VoteCastWithParams on OZ
    return {
        "transfer": [
            (a, Support.FOR, "", None),
            (b, Support.FOR, "Budget matches the social vote.", None),
            (c, Support.AGAINST, "Too much ETH.", None),
        ],
        "grant": [(a, Support.FOR, "", None), (b, Support.ABSTAIN, "No view.", None)],
        "upgrade": [(a, Support.FOR, "Audited.", params), (c, Support.FOR, "", None)],
        "defeated": [
            (a, Support.AGAINST, "Drains the treasury.", None),
            (b, Support.AGAINST, "", None),
            (c, Support.FOR, "", None),
        ],
        "active": [(a, Support.FOR, "", None), (b, Support.AGAINST, "Not yet.", None)],
    }


def _cast(
    dep: Deployment, pid: int, ballots: list[tuple[ChecksumAddress, Support, str, bytes | None]]
) -> tuple[CastVote, ...]:
    return tuple(vote(dep, pid, v, s, reason, params) for v, s, reason, params in ballots)


def lifecycle(dep: Deployment) -> dict[str, Expected]:
    """Run the mix on ``dep`` (needs 3+ voters with equal balances, voting delay >= 1)."""
    if len(dep.voters) < 3 or dep.voting_period < MIN_VOTING_PERIOD or dep.voting_delay < 1:
        raise ValueError(
            f"lifecycle needs 3+ voters, voting_period >= {MIN_VOTING_PERIOD}, voting_delay >= 1"
        )
    a, b, c = dep.voters[0], dep.voters[1], dep.voters[-1]
    texts, actions, ballots = _descriptions(dep), _actions(dep), _ballots(dep, a, b, c)
    ids: dict[str, int] = {}
    ids["canceled"] = propose(dep, actions["canceled"], texts["canceled"])
    cancel(dep, ids["canceled"])  # OZ: still Pending, as OpenZeppelin 5.x requires
    for name in ("transfer", "grant", "upgrade", "defeated"):
        ids[name] = propose(dep, actions[name], texts[name])
    mine_until_active(dep, ids["defeated"])
    votes = {name: _cast(dep, ids[name], ballots[name]) for name in ballots if name != "active"}
    mine_until_ended(dep, ids["defeated"])
    executed = ("transfer", "grant", "upgrade")
    for name in executed:
        queue(dep, ids[name])
    for name in executed:
        execute(dep, ids[name])
    ids["active"] = propose(dep, actions["active"], texts["active"])
    mine_until_active(dep, ids["active"])
    votes["active"] = _cast(dep, ids["active"], ballots["active"])
    votes["canceled"] = ()
    states = {
        "transfer": ProposalState.EXECUTED,
        "grant": ProposalState.EXECUTED,
        "upgrade": ProposalState.EXECUTED,
        "defeated": ProposalState.DEFEATED,
        "canceled": ProposalState.CANCELED,
        "active": ProposalState.ACTIVE,
    }
    return {
        name: Expected(ids[name], states[name], texts[name], actions[name], votes[name])
        for name in states
    }
