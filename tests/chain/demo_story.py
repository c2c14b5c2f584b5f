"""What the demo chain holds: proposals modelled on ENS DAO executable proposals
(config/demo/ens-proposals.jsonl), with real actions on the local treasury, and the bulk load
the benchmark asks for.

``settle_past`` leaves a working-group funding and a voting-period extension executed and a
whole-treasury sale defeated; ``open_votes`` then adds a steward appointment and a contract
upgrade still being voted on (for a week, thanks to the extension).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import cycle
from pathlib import Path

from eth_typing import ChecksumAddress
from web3 import Web3

from .actions import (
    Action,
    grant_spender,
    send_eth,
    set_voting_period,
    transfer_token,
    upgrade_box,
)
from .bulk import BulkSender, Tx, call_tx, oz_proposal_id
from .deploy import Deployment
from .scenario import (
    Support,
    execute,
    mine_until_active,
    mine_until_ended,
    propose,
    queue,
    vote,
)

ENS_ARCHIVE = Path(__file__).resolve().parents[2] / "config" / "demo" / "ens-proposals.jsonl"
USDC = 10**6
ETH = 10**18
META_GOV = Web3.to_checksum_address("0x91c32893216dE3eA0a55ABb9851f581d4503d39b")
ECOSYSTEM = Web3.to_checksum_address("0x2686A8919Df194aA7673244549E68D42C1685d03")
PUBLIC_GOODS = Web3.to_checksum_address("0xcD42b4c4D102cc22864e3A1341Bb0529c17fD87d")
NEW_STEWARD = Web3.to_checksum_address("0x5A384227B65FA093DEC03Ec34e111Db80A040615")
MARKET_MAKER = Web3.to_checksum_address("0x000000000000000000000000000000000000dEaD")
WEEK_BLOCKS = 50_400
STORY_PERIOD = 100
"""Initial voting period of the story, in blocks: short, since anvil mines ≈ 1-3 ms a block."""
DELEGATE_BALANCES = [3_000_000, 2_000_000, 1_500_000, 1_000_000, 500_000]
"""STEW of the demo's five delegates (whole tokens); quorum is 4% of their sum."""


@dataclass(frozen=True)
class DemoProposal:
    key: str
    proposal_id: int
    title: str
    expected_state: str


def _table(actions: tuple[Action, ...]) -> str:
    rows = ["| Target | Value (wei) | Function | Calldata |", "| --- | --- | --- | --- |"]
    for a in actions:
        rows.append(
            f"| {a.target} | {a.value} | {a.signature or '(ETH transfer)'} | 0x{a.calldata.hex()} |"
        )
    return "\n".join(rows)


def _text(title: str, abstract: str, specification: str, actions: tuple[Action, ...]) -> str:
    return (
        f"# {title}\n\n## Abstract\n\n{abstract}\n\n## Specification\n\n{specification}\n\n"
        f"## Transactions\n\n{_table(actions)}\n"
    )


def funding(dep: Deployment) -> tuple[str, tuple[Action, ...], str]:
    usdc = dep.assets.usdc
    actions = (
        transfer_token(usdc, META_GOV, 379_000 * USDC, symbol="USDC"),
        transfer_token(usdc, ECOSYSTEM, 470_000 * USDC, symbol="USDC"),
        transfer_token(usdc, PUBLIC_GOODS, 110_000 * USDC, symbol="USDC"),
        send_eth(PUBLIC_GOODS, 15 * ETH),
    )
    title = "[EP 7.1] [Executable] Collective Working Group Funding Request (April 2026)"
    abstract = (
        "This proposal executes the three Working Group funding requests for the April 2026 "
        "window, as approved in the social proposals EP 7.0.1, EP 7.0.2 and EP 7.0.3. Total "
        "requested: **959,000 USDC + 15 ETH**, covering stewards' compensation, audits, "
        "grants, hackathons and DAO tooling through October 2026."
    )
    spec = (
        "Three USDC transfers with `transfer(address,uint256)` on the treasury's USDC token and "
        "one ETH transfer, all from the DAO timelock:\n\n"
        f"1. **Meta-Gov Safe** - 379,000 USDC `{META_GOV}`\n"
        f"2. **Ecosystem Safe** - 470,000 USDC `{ECOSYSTEM}`\n"
        f"3. **Public Goods Safe** - 110,000 USDC + 15 ETH `{PUBLIC_GOODS}`"
    )
    return title, actions, _text(title, abstract, spec, actions)


def steward(dep: Deployment) -> tuple[str, tuple[Action, ...], str]:
    actions = (grant_spender(dep.assets.treasury, NEW_STEWARD),)
    title = "[EP 7.2] [Executable] Appoint a Treasury Steward for service-provider streams"
    abstract = (
        "Following the Security Council model of EP 5.13, this proposal grants `SPENDER_ROLE` "
        "on the DAO Treasury to a new steward multisig, so that approved service-provider "
        "streams can be paid without a full DAO vote for each payment. The role can be "
        "revoked by the DAO at any time."
    )
    spec = (
        f"Call `grantRole(SPENDER_ROLE, {NEW_STEWARD})` on the Treasury "
        f"`{dep.assets.treasury.address}`."
    )
    return title, actions, _text(title, abstract, spec, actions)


def upgrade(dep: Deployment) -> tuple[str, tuple[Action, ...], str]:
    box = dep.assets.box
    actions = (upgrade_box(box, dep.assets.box_v2.address),)
    title = "[EP 7.3] [Executable] Upgrade the Registry Box to V2"
    abstract = (
        "Like EP 5.1 (Upgrade DNSSEC support), this proposal replaces a core contract's "
        "implementation: the UUPS proxy moves to a V2 implementation that adds `increment()`. "
        "Storage layout is unchanged; the DAO timelock stays the owner."
    )
    spec = f"Call `upgradeToAndCall({dep.assets.box_v2.address}, 0x)` on the proxy `{box.address}`."
    return title, actions, _text(title, abstract, spec, actions)


def sale(dep: Deployment) -> tuple[str, tuple[Action, ...], str]:
    actions = (send_eth(MARKET_MAKER, 50 * ETH),)
    title = "[EP 7.4] [Executable] Sell all treasury ETH through a single market maker"
    abstract = (
        "Modelled on EP 3.3 (Sell ETH to USDC) but sending the whole ETH balance to one "
        "counterparty up front, with no price protection."
    )
    spec = f"Send 50 ETH from the timelock to `{MARKET_MAKER}`."
    return title, actions, _text(title, abstract, spec, actions)


def week_long_votes(dep: Deployment) -> tuple[str, tuple[Action, ...], str]:
    actions = (set_voting_period(dep.governor, WEEK_BLOCKS),)
    title = "[EP 7.0] [Executable] Extend the voting period to one week"
    abstract = (
        "Delegates asked for more time to review executable proposals. This sets the "
        f"Governor's voting period to {WEEK_BLOCKS:,} blocks (about seven days at 12 s a "
        "block), as on the ENS Governor; proposals created afterwards get the longer window."
    )
    spec = f"Call `setVotingPeriod({WEEK_BLOCKS})` on the Governor `{dep.governor.address}`."
    return title, actions, _text(title, abstract, spec, actions)


def settle_past(dep: Deployment) -> list[DemoProposal]:
    """Proposals already decided: funding and the voting-period change executed, sale defeated.

    Mines the (short, initial) voting period and moves time past the timelock delay.
    """
    d1, d2, d3, d4, d5 = dep.voters[:5]
    made = {
        key: build(dep)
        for key, build in (("funding", funding), ("sale", sale), ("voting_period", week_long_votes))
    }
    ids = {
        key: propose(dep, acts, text, proposer=d1 if key != "sale" else d5)
        for key, (_, acts, text) in made.items()
    }
    mine_until_active(dep, ids["voting_period"])
    fund, sell, period = ids["funding"], ids["sale"], ids["voting_period"]
    vote(dep, fund, d1, Support.FOR, "Matches the approved social proposals.")
    vote(dep, fund, d2, Support.FOR)
    vote(dep, fund, d3, Support.ABSTAIN, "Conflict of interest: I steward Meta-Gov.")
    vote(dep, fund, d5, Support.AGAINST, "The Ecosystem budget grew 20% with no report.")
    vote(dep, sell, d1, Support.AGAINST, "No price protection; one counterparty.")
    vote(dep, sell, d2, Support.AGAINST)
    vote(dep, sell, d5, Support.FOR, "ETH exposure is too high.")
    vote(dep, period, d1, Support.FOR, "A week matches the ENS Governor.")
    vote(dep, period, d4, Support.FOR)
    mine_until_ended(dep, period)
    for pid in (fund, period):
        queue(dep, pid)
    for pid in (fund, period):
        execute(dep, pid)
    states = {"funding": "Executed", "sale": "Defeated", "voting_period": "Executed"}
    return [DemoProposal(k, ids[k], made[k][0], states[k]) for k in made]


def open_votes(dep: Deployment) -> list[DemoProposal]:
    """Proposals still being voted on (a week-long window): a role grant and an upgrade."""
    d1, d2, d3, d4, _ = dep.voters[:5]
    t_stew, a_stew, x_stew = steward(dep)
    t_up, a_up, x_up = upgrade(dep)
    appoint = propose(dep, a_stew, x_stew, proposer=d2)
    upgrade_id = propose(dep, a_up, x_up, proposer=d4)
    mine_until_active(dep, upgrade_id)
    vote(dep, appoint, d1, Support.FOR, "Streams need a steward; the role is revocable.")
    vote(dep, appoint, d3, Support.FOR)
    vote(dep, upgrade_id, d2, Support.AGAINST, "V2 has not been audited yet.")
    vote(dep, upgrade_id, d4, Support.FOR, "Small change, same storage layout.")
    return [
        DemoProposal("steward", appoint, t_stew, "Active"),
        DemoProposal("upgrade", upgrade_id, t_up, "Active"),
    ]


def _ens_texts() -> Iterator[tuple[str, str]]:
    """(title, body) of ENS executable proposals, cycling, for realistic bench descriptions."""
    rows = [json.loads(line) for line in ENS_ARCHIVE.read_text(encoding="utf-8").splitlines()]
    picked = [(r["title"], r["body"][:4000]) for r in rows if r.get("type") == "executable"]
    return cycle(picked or [("Proposal", "Body")])


def bench_load(
    dep: Deployment, url: str, *, proposals: int, voters: list[ChecksumAddress]
) -> dict[str, int]:
    """``proposals`` USDC-transfer proposals, each voted on by every one of ``voters``.

    Voting power is handed out in bulk to voters beyond the deployment's own; votes mix
    for/against/abstain, one in four with a reason. Returns counts for the benchmark.
    """
    if dep.kind != "oz":
        raise ValueError("bench_load makes OpenZeppelin proposals")
    extra = [v for v in voters if v not in dep.voters]
    start = dep.w3.eth.block_number
    with BulkSender(url) as bulk:
        mint = [
            call_tx(dep.token, "mint", [v, 1_000 * ETH], sender=dep.deployer, gas=150_000)
            for v in extra
        ]
        delegate = [call_tx(dep.token, "delegate", [v], sender=v, gas=150_000) for v in extra]
        bulk.run(mint)
        bulk.run(delegate)
        ids, txs = _bench_proposals(dep, proposals)
        bulk.run(txs)
        bulk.mine(dep.voting_delay + 1)
        bulk.run(_bench_votes(dep, ids, voters))
    return {
        "proposals": len(ids),
        "votes": len(ids) * len(voters),
        "voters": len(voters),
        "blocks": dep.w3.eth.block_number - start,
    }


def _bench_proposals(dep: Deployment, count: int) -> tuple[list[int], list[Tx]]:
    texts = _ens_texts()
    ids, txs = [], []
    for i in range(count):
        title, body = next(texts)
        action = transfer_token(dep.assets.usdc, META_GOV, (i + 1) * 1_000 * USDC, symbol="USDC")
        description = f"# [Bench {i + 1}] {title}\n\n{body}"
        args = [[action.target], [action.value], [action.calldata], description]
        gas = 200_000 + 48 * len(description.encode())  # ≈ 2x what it uses
        txs.append(call_tx(dep.governor, "propose", args, sender=dep.voters[0], gas=gas))
        ids.append(oz_proposal_id((action,), description))
    return ids, txs


def _bench_votes(dep: Deployment, ids: list[int], voters: list[ChecksumAddress]) -> list[Tx]:
    txs = []
    for i, pid in enumerate(ids):
        for j, voter in enumerate(voters):
            support = (i + j) % 3 if (i + j) % 5 else Support.FOR
            if (i + j) % 4 == 0:
                reason = f"Vote {j} on bench proposal {i + 1}: see the forum thread."
                args: list[object] = [pid, int(support), reason]
                txs.append(
                    call_tx(dep.governor, "castVoteWithReason", args, sender=voter, gas=200_000)
                )
            else:
                txs.append(
                    call_tx(
                        dep.governor, "castVote", [pid, int(support)], sender=voter, gas=150_000
                    )
                )
    return txs
