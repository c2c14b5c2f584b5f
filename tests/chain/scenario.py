"""Drive proposals through their life on either governor kind: propose, vote, queue, execute,
cancel, and mining/time travel in between.

OpenZeppelin identifies a proposal by its content (targets, values, calldatas, description
hash), so ``propose`` records what it sent on the deployment and the later steps reuse it.
GovernorBravo stores its actions and only needs the id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from eth_typing import ChecksumAddress
from eth_utils import keccak
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import TxReceipt

from .actions import Action
from .deploy import Deployment, ProposalPlan
from .evm import advance_to, latest_timestamp, mine_to, read, transact

MAX_GAS = 15_000_000


class ProposalState(IntEnum):
    """Same order in OpenZeppelin 5.x and GovernorBravo."""

    PENDING = 0
    ACTIVE = 1
    CANCELED = 2
    DEFEATED = 3
    SUCCEEDED = 4
    QUEUED = 5
    EXPIRED = 6
    EXECUTED = 7


class Support(IntEnum):
    AGAINST = 0
    FOR = 1
    ABSTAIN = 2


@dataclass(frozen=True)
class CastVote:
    """A vote as the chain recorded it (``weight`` is read back from the event)."""

    voter: ChecksumAddress
    support: Support
    weight: int
    reason: str
    params: bytes
    block_number: int


def _gas(base: int, per_action: int, actions: int, payload: int) -> int:
    return min(MAX_GAS, base + per_action * actions + 64 * payload)


def _payload(actions: Sequence[Action]) -> int:
    return sum(len(a.args) + len(a.signature) + 4 for a in actions)


def _plan(dep: Deployment, proposal_id: int) -> ProposalPlan:
    try:
        return dep.proposals[proposal_id]
    except KeyError:
        raise KeyError(f"proposal {proposal_id} was not created by this harness") from None


def _oz_args(plan: ProposalPlan) -> tuple[list[str], list[int], list[bytes], bytes]:
    return (
        [a.target for a in plan.actions],
        [a.value for a in plan.actions],
        [a.calldata for a in plan.actions],
        keccak(text=plan.description),
    )


def _event_args(contract: Contract, receipt: TxReceipt, *names: str) -> dict[str, object]:
    known = {e.get("name") for e in contract.abi if e["type"] == "event"}
    for name in (n for n in names if n in known):
        for event in contract.events[name]().process_receipt(receipt, errors=DISCARD):
            return dict(event["args"])
    raise LookupError(f"no {' or '.join(names)} event in transaction")


def propose(
    dep: Deployment,
    actions: Sequence[Action],
    description: str,
    *,
    proposer: ChecksumAddress | None = None,
) -> int:
    """Create the proposal; returns its id (OZ: the content hash, Bravo: the counter)."""
    sender = proposer or dep.voters[0]
    gas = _gas(600_000, 250_000, len(actions), _payload(actions) + len(description.encode()))
    targets = [a.target for a in actions]
    values = [a.value for a in actions]
    if dep.kind == "oz":
        call = dep.governor.functions.propose(
            targets, values, [a.calldata for a in actions], description
        )
    else:
        call = dep.governor.functions.propose(
            targets, values, [a.signature for a in actions], [a.args for a in actions], description
        )
    receipt = transact(call, sender=sender, gas=gas)
    args = _event_args(dep.governor, receipt, "ProposalCreated")
    proposal_id = int(args["proposalId" if dep.kind == "oz" else "id"])  # type: ignore[call-overload]
    dep.proposals[proposal_id] = ProposalPlan(tuple(actions), description, sender)
    return proposal_id


def state(dep: Deployment, proposal_id: int) -> ProposalState:
    return ProposalState(read(dep.governor.functions.state(proposal_id), dep.deployer))


def voting_window(dep: Deployment, proposal_id: int) -> tuple[int, int]:
    """(snapshot/start block, deadline/end block): votes count in blocks start+1 … end."""
    gov = dep.governor.functions
    if dep.kind == "oz":
        start = read(gov.proposalSnapshot(proposal_id), dep.deployer)
        return int(start), int(read(gov.proposalDeadline(proposal_id), dep.deployer))
    fields = read(gov.proposals(proposal_id), dep.deployer)
    return int(fields[3]), int(fields[4])


def mine_until_active(dep: Deployment, proposal_id: int) -> None:
    """Mine past the snapshot block, so that both calls and new transactions see Active."""
    mine_to(dep.w3, voting_window(dep, proposal_id)[0] + 1)


def mine_until_ended(dep: Deployment, proposal_id: int) -> None:
    """Mine past the deadline: the vote is decided (Succeeded or Defeated)."""
    mine_to(dep.w3, voting_window(dep, proposal_id)[1] + 1)


def vote(
    dep: Deployment,
    proposal_id: int,
    voter: ChecksumAddress,
    support: Support | int,
    reason: str = "",
    params: bytes | None = None,
) -> CastVote:
    """castVote, castVoteWithReason or (OZ only) castVoteWithReasonAndParams."""
    gov = dep.governor.functions
    if params is not None:
        if dep.kind != "oz":
            raise ValueError("GovernorBravo has no castVoteWithReasonAndParams")
        call = gov.castVoteWithReasonAndParams(proposal_id, int(support), reason, params)
    elif reason:
        call = gov.castVoteWithReason(proposal_id, int(support), reason)
    else:
        call = gov.castVote(proposal_id, int(support))
    gas = _gas(250_000, 0, 0, len(reason.encode()) + len(params or b""))
    receipt = transact(call, sender=voter, gas=gas)
    args = _event_args(dep.governor, receipt, "VoteCastWithParams", "VoteCast")
    weight = args.get("weight", args.get("votes"))
    return CastVote(
        voter=voter,
        support=Support(int(support)),
        weight=int(weight),  # type: ignore[call-overload]
        reason=reason,
        params=params or b"",
        block_number=int(receipt["blockNumber"]),
    )


def queue(dep: Deployment, proposal_id: int) -> int:
    """Queue a Succeeded proposal in the timelock; returns its eta (a timestamp)."""
    plan = _plan(dep, proposal_id) if dep.kind == "oz" else None
    actions = len(plan.actions) if plan else 10
    gas = _gas(400_000, 150_000, actions, _payload(plan.actions) if plan else 4096)
    if plan is not None:
        transact(dep.governor.functions.queue(*_oz_args(plan)), sender=dep.deployer, gas=gas)
    else:
        transact(dep.governor.functions.queue(proposal_id), sender=dep.deployer, gas=gas)
    return eta(dep, proposal_id)


def eta(dep: Deployment, proposal_id: int) -> int:
    gov = dep.governor.functions
    if dep.kind == "oz":
        return int(read(gov.proposalEta(proposal_id), dep.deployer))
    return int(read(gov.proposals(proposal_id), dep.deployer)[2])


def execute(dep: Deployment, proposal_id: int) -> TxReceipt:
    """Execute a Queued proposal, first moving the chain's clock to its eta if needed."""
    ready_at = eta(dep, proposal_id)
    if latest_timestamp(dep.w3) < ready_at:
        advance_to(dep.w3, ready_at)
    gas = _gas(500_000, 300_000, 10, 0)
    if dep.kind == "oz":
        call = dep.governor.functions.execute(*_oz_args(_plan(dep, proposal_id)))
    else:
        call = dep.governor.functions.execute(proposal_id)
    return transact(call, sender=dep.deployer, gas=gas)


def cancel(dep: Deployment, proposal_id: int, *, sender: ChecksumAddress | None = None) -> None:
    """Cancel. OpenZeppelin 5.x lets only the proposer cancel, and only while Pending."""
    gov = dep.governor.functions
    if dep.kind == "oz":
        plan = _plan(dep, proposal_id)
        call = gov.cancel(*_oz_args(plan))
        transact(call, sender=sender or plan.proposer, gas=_gas(300_000, 50_000, 10, 0))
    else:
        proposer = dep.proposals[proposal_id].proposer if proposal_id in dep.proposals else None
        who = sender or proposer or dep.voters[0]
        transact(gov.cancel(proposal_id), sender=who, gas=_gas(300_000, 100_000, 10, 0))
