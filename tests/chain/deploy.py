"""Deploy an OpenZeppelin Governor or a GovernorBravo set, with a treasury worth governing.

Works on any Web3 whose accounts are unlocked and funded (eth-tester, anvil). Both sets give
the timelock USDC-like tokens and ETH, make it admin of a ``Treasury`` and owner of an
upgradeable box, so proposals transfer funds, grant roles and upgrade contracts for real.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import rlp
from eth_typing import ChecksumAddress
from eth_utils import keccak, to_canonical_address
from web3 import Web3
from web3.contract import Contract

from .actions import Action
from .evm import deploy, send_eth, transact

VOTER_BALANCE = 1_000 * 10**18
"""STEW minted to each voter unless ``balances`` says otherwise."""
TREASURY_USDC = 10_000_000 * 10**6
TREASURY_ETH = 50 * 10**18
BOX_VALUE = 42
ZERO_ADDRESS = Web3.to_checksum_address("0x" + "00" * 20)


@dataclass(frozen=True)
class Assets:
    """What the timelock controls, so proposals have real actions to take."""

    usdc: Contract
    """TreasuryToken "USD Coin" (USDC, 6 decimals), all held by the timelock."""
    treasury: Contract
    """Treasury whose DEFAULT_ADMIN_ROLE is the timelock (grants SPENDER_ROLE)."""
    box: Contract
    """ERC1967Proxy of UpgradeableBox owned by the timelock, at UpgradeableBoxV2's ABI."""
    box_v2: Contract
    """UpgradeableBoxV2 implementation, for upgrade proposals."""


@dataclass
class ProposalPlan:
    """What ``propose`` sent; OpenZeppelin's queue/execute/cancel take it back verbatim."""

    actions: tuple[Action, ...]
    description: str
    proposer: ChecksumAddress


@dataclass(frozen=True)
class Deployment:
    """A governor, its token and timelock, and the assets the timelock holds."""

    kind: ClassVar[Literal["oz", "bravo"]]
    w3: Web3
    deployer: ChecksumAddress
    voters: tuple[ChecksumAddress, ...]
    token: Contract
    timelock: Contract
    governor: Contract
    assets: Assets
    start_block: int
    """Block of the governor's creation: nothing of it is logged earlier."""
    voting_delay: int
    voting_period: int
    timelock_delay: int
    proposals: dict[int, ProposalPlan] = field(default_factory=dict, compare=False)

    def addresses(self) -> dict[str, str]:
        """Every contract address by role (for config files and reports)."""
        return {
            "governor": self.governor.address,
            "token": self.token.address,
            "timelock": self.timelock.address,
            "usdc": self.assets.usdc.address,
            "treasury": self.assets.treasury.address,
            "box": self.assets.box.address,
            "box_v2": self.assets.box_v2.address,
        }


@dataclass(frozen=True)
class OzDeployment(Deployment):
    kind: ClassVar[Literal["oz", "bravo"]] = "oz"


@dataclass(frozen=True)
class BravoDeployment(Deployment):
    kind: ClassVar[Literal["oz", "bravo"]] = "bravo"


def create_address(sender: str, nonce: int) -> ChecksumAddress:
    """The address a CREATE from ``sender`` at ``nonce`` gets (to wire contracts up front)."""
    encoded = rlp.encode([to_canonical_address(sender), nonce])
    return Web3.to_checksum_address(keccak(encoded)[12:])


def _accounts(
    w3: Web3, voters: Sequence[str] | None, deployer: str | None
) -> tuple[ChecksumAddress, tuple[ChecksumAddress, ...]]:
    accounts = [Web3.to_checksum_address(a) for a in w3.eth.accounts]
    owner = Web3.to_checksum_address(deployer) if deployer else accounts[0]
    chosen = voters if voters is not None else accounts[1:4]
    return owner, tuple(Web3.to_checksum_address(v) for v in chosen)


def _voting_token(
    w3: Web3, deployer: ChecksumAddress, voters: Sequence[ChecksumAddress], balances: Sequence[int]
) -> Contract:
    """StewardToken with ``balances`` minted to ``voters``, each delegating to itself."""
    token, _ = deploy(w3, "StewardToken", deployer, sender=deployer)
    for voter, amount in zip(voters, balances, strict=True):
        transact(token.functions.mint(voter, amount), sender=deployer, gas=200_000)
    for voter in voters:
        transact(token.functions.delegate(voter), sender=voter, gas=200_000)
    return token


def deploy_assets(w3: Web3, *, owner: ChecksumAddress, deployer: ChecksumAddress) -> Assets:
    """USDC, ETH, a Treasury and an upgradeable box, all controlled by ``owner`` (a timelock)."""
    usdc, _ = deploy(
        w3, "TreasuryToken", "USD Coin", "USDC", 6, owner, TREASURY_USDC, sender=deployer
    )
    send_eth(w3, sender=deployer, to=owner, value=TREASURY_ETH)
    treasury, _ = deploy(w3, "Treasury", owner, sender=deployer)
    box_v1, _ = deploy(w3, "UpgradeableBox", sender=deployer)
    init = box_v1.encode_abi("initialize", args=[owner, BOX_VALUE])
    proxy, _ = deploy(w3, "ERC1967Proxy", box_v1.address, init, sender=deployer)
    box_v2, _ = deploy(w3, "UpgradeableBoxV2", sender=deployer)
    box = w3.eth.contract(address=proxy.address, abi=box_v2.abi)
    return Assets(usdc=usdc, treasury=treasury, box=box, box_v2=box_v2)


def _balances(voters: Sequence[str], balances: Sequence[int] | None) -> list[int]:
    return list(balances) if balances is not None else [VOTER_BALANCE] * len(voters)


def deploy_oz(
    w3: Web3,
    *,
    voters: Sequence[str] | None = None,
    balances: Sequence[int] | None = None,
    deployer: str | None = None,
    voting_delay: int = 1,
    voting_period: int = 50,
    quorum_percent: int = 4,
    proposal_threshold: int = 0,
    timelock_delay: int = 3600,
) -> OzDeployment:
    """StewardToken → TimelockController → StewardGovernor, then the timelock's assets.

    The timelock is created already naming the governor (address predicted from the
    deployer's nonce) as PROPOSER and CANCELLER, with open execution and no admin but itself.
    ``voters`` default to accounts 1-3; each gets ``balances[i]`` STEW and delegates to itself.
    """
    owner, chosen = _accounts(w3, voters, deployer)
    token = _voting_token(w3, owner, chosen, _balances(chosen, balances))
    nonce = w3.eth.get_transaction_count(owner)
    governor_address = create_address(owner, nonce + 1)
    timelock, _ = deploy(
        w3,
        "TimelockController",
        timelock_delay,
        [governor_address],
        [ZERO_ADDRESS],
        ZERO_ADDRESS,
        sender=owner,
    )
    governor, receipt = deploy(
        w3,
        "StewardGovernor",
        token.address,
        timelock.address,
        voting_delay,
        voting_period,
        proposal_threshold,
        quorum_percent,
        sender=owner,
    )
    if governor.address != governor_address:
        raise RuntimeError("governor address prediction failed: was the deployer busy?")
    assets = deploy_assets(w3, owner=timelock.address, deployer=owner)
    return OzDeployment(
        **_common(w3, owner, chosen, token, timelock, governor, assets, receipt),
        voting_delay=voting_delay,
        voting_period=voting_period,
        timelock_delay=timelock_delay,
    )


def deploy_bravo(
    w3: Web3,
    *,
    voters: Sequence[str] | None = None,
    balances: Sequence[int] | None = None,
    deployer: str | None = None,
    voting_delay: int = 1,
    voting_period: int = 50,
    quorum_votes: int | None = None,
    proposal_threshold: int = 0,
    timelock_delay: int = 3600,
) -> BravoDeployment:
    """StewardToken → BravoTimelock → BravoGovernor, wired as contracts/README.md says.

    The deployer, first admin of the timelock, names the governor pending admin and the
    governor accepts (``_acceptAdmin``). ``quorum_votes`` defaults to 4% of the minted supply.
    """
    owner, chosen = _accounts(w3, voters, deployer)
    amounts = _balances(chosen, balances)
    token = _voting_token(w3, owner, chosen, amounts)
    timelock, _ = deploy(w3, "BravoTimelock", owner, timelock_delay, sender=owner)
    quorum = quorum_votes if quorum_votes is not None else sum(amounts) * 4 // 100
    governor, receipt = deploy(
        w3,
        "BravoGovernor",
        timelock.address,
        token.address,
        voting_period,
        voting_delay,
        proposal_threshold,
        quorum,
        sender=owner,
    )
    transact(timelock.functions.setPendingAdmin(governor.address), sender=owner, gas=100_000)
    transact(governor.functions._acceptAdmin(), sender=owner, gas=100_000)
    assets = deploy_assets(w3, owner=timelock.address, deployer=owner)
    return BravoDeployment(
        **_common(w3, owner, chosen, token, timelock, governor, assets, receipt),
        voting_delay=voting_delay,
        voting_period=voting_period,
        timelock_delay=timelock_delay,
    )


def _common(
    w3: Web3,
    deployer: ChecksumAddress,
    voters: tuple[ChecksumAddress, ...],
    token: Contract,
    timelock: Contract,
    governor: Contract,
    assets: Assets,
    governor_receipt: Any,
) -> dict[str, Any]:
    return {
        "w3": w3,
        "deployer": deployer,
        "voters": voters,
        "token": token,
        "timelock": timelock,
        "governor": governor,
        "assets": assets,
        "start_block": int(governor_receipt["blockNumber"]),
    }
