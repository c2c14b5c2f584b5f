"""ChainVoter on real EVMs: eth-tester (in-process py-evm) and anvil (real JSON-RPC).

eth-tester covers the checks before signing and the cast itself on both governor kinds;
anvil, whose automine can be switched off, covers what needs a mempool: a stuck transaction
replaced with higher fees, a time-out, and a crash right after sending. Every test also
checks that the voter's private key never shows in an error or a log record.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account import Account
from eth_account.datastructures import SignedTransaction
from web3 import EthereumTesterProvider, Web3
from web3.exceptions import TransactionNotFound

from agent.errors import (
    AlreadyVoted,
    CastOutcomeUnknown,
    ConfigError,
    FeeCapExceeded,
    InvalidVote,
    ProposalNotActive,
    SigningFailed,
    SourceError,
    SourceUnavailable,
    TransactionRefused,
    VoteError,
)
from connectors.chain.rpc import ChainRpc
from connectors.chain.transactions import GWEI, Fees, broadcast
from connectors.chain.vote_tx import ChainVoter
from connectors.signers import Signer, load_signer
from tests.chain import evm
from tests.chain.actions import send_eth
from tests.chain.anvil import AnvilNode, set_automine, start_anvil
from tests.chain.deploy import Deployment, deploy_bravo, deploy_oz
from tests.chain.scenario import mine_until_active, mine_until_ended, propose

GAS = 300_000
"""Explicit gas on eth-tester (estimation costs it 2-4x a transaction)."""


@dataclass
class Chain:
    """A deployment with one Active proposal, and a voter whose key the test holds."""

    w3: Web3
    dep: Deployment
    signer: Signer
    key_hex: str
    proposal: int

    def voter(self, **over: Any) -> ChainVoter:
        options: dict[str, Any] = {
            "chain_id": self.w3.eth.chain_id,
            "max_fee_gwei_cap": 100.0,
            "priority_fee_gwei": 1.0,
            "receipt_timeout_s": 30.0,
            "replace_after_s": 10.0,
            "max_replacements": 2,
            "poll_interval_s": 0.01,
        }
        if evm.is_eth_tester(self.w3):
            options["gas_limit"] = GAS
        options.update(over)
        return ChainVoter(
            ChainRpc.from_web3(self.w3),
            self.dep.governor.address,
            self.dep.kind,
            self.signer,
            **options,
        )

    def nonce(self, block: str = "pending") -> int:
        return int(self.w3.eth.get_transaction_count(self.signer.address, block))  # type: ignore[arg-type]

    def new_proposal(self, text: str) -> int:
        return propose(
            self.dep, [send_eth(self.dep.voters[1], 1)], text, proposer=self.dep.voters[1]
        )

    def vote_logs(self) -> list[Any]:
        gov = self.dep.governor.events
        names = ["VoteCast", "VoteCastWithParams"] if self.dep.kind == "oz" else ["VoteCast"]
        logs = []
        for name in names:
            logs += gov[name]().get_logs(
                from_block=self.dep.start_block, argument_filters={"voter": self.signer.address}
            )
        return logs


def _chain(w3: Web3, kind: str, key: bytes) -> Chain:
    signer = load_signer({"private_key_env": "VOTER_KEY"}, environ={"VOTER_KEY": "0x" + key.hex()})
    dep = (deploy_oz if kind == "oz" else deploy_bravo)(
        w3, voters=[signer.address, *w3.eth.accounts[2:4]]
    )
    pid = propose(dep, [send_eth(dep.voters[1], 1)], f"# Pay a grant\n\n{kind}")
    mine_until_active(dep, pid)
    return Chain(w3=w3, dep=dep, signer=signer, key_hex=key.hex(), proposal=pid)


_KEYS: list[str] = []
"""Every voter key the module created; none may reach a log record."""


@pytest.fixture(autouse=True)
def _no_key_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    yield
    for key in _KEYS:
        assert key.lower() not in caplog.text.lower()


def _assert_no_key(chain: Chain, exc: BaseException) -> None:
    for text in (str(exc), repr(exc), repr(exc.args)):
        assert chain.key_hex not in text and chain.key_hex.upper() not in text


# ------------------------------------------------------------------ eth-tester
@pytest.fixture(scope="module", params=["oz", "bravo"])
def tester_world(request: pytest.FixtureRequest) -> Chain:
    w3 = Web3(EthereumTesterProvider())
    key = w3.provider.ethereum_tester.backend.account_keys[1].to_bytes()  # type: ignore[attr-defined]
    chain = _chain(w3, request.param, key)
    _KEYS.append(chain.key_hex)
    return chain


@pytest.fixture
def tester(tester_world: Chain) -> Iterator[Chain]:
    snap = evm.snapshot(tester_world.w3)
    yield tester_world
    evm.revert(tester_world.w3, snap)


def test_cast_for_with_reason(tester: Chain) -> None:
    voter = tester.voter()
    sent: list[str] = []
    receipt = voter.cast(tester.proposal, 1, "Funds an audited team.", on_sent=sent.append)
    assert receipt.status == 1 and receipt.replaced == 0 and sent == [receipt.tx_hash]
    (log,) = tester.vote_logs()
    assert log["args"]["reason"] == "Funds an audited team." and log["args"]["support"] == 1
    assert int(log["args"]["proposalId"]) == tester.proposal
    assert "0x" + log["transactionHash"].hex() == receipt.tx_hash
    tx = tester.w3.eth.get_transaction(receipt.tx_hash)  # type: ignore[arg-type]
    assert tx["type"] == 2 and tx["gas"] == GAS and tx["maxFeePerGas"] <= 100 * GWEI
    assert voter.has_voted(tester.proposal, tester.signer.address)
    assert not voter.has_voted(tester.proposal, tester.dep.voters[1])
    found = voter.find_cast(tester.proposal, tester.signer.address, tester.dep.start_block)
    assert found == receipt.tx_hash
    assert voter.find_cast(tester.proposal, tester.dep.voters[1], tester.dep.start_block) is None


def test_second_cast_refuses_without_sending(tester: Chain) -> None:
    voter = tester.voter()
    voter.cast(tester.proposal, 0, "No.")
    nonce, sent = tester.nonce(), []
    with pytest.raises(AlreadyVoted) as info:
        voter.cast(tester.proposal, 1, "Changed my mind.", on_sent=sent.append)
    assert tester.nonce() == nonce and sent == [] and len(tester.vote_logs()) == 1
    _assert_no_key(tester, info.value)


def test_one_vote_at_a_time_per_account(tester: Chain) -> None:
    """A second voter for the same account (another governor, say) waits its turn."""
    other = tester.voter()
    refused: list[Exception] = []

    def cast_again(_tx_hash: str) -> None:
        with pytest.raises(TransactionRefused, match="being sent") as info:
            other.cast(tester.proposal, 0)
        refused.append(info.value)

    tester.voter().cast(tester.proposal, 1, on_sent=cast_again)
    assert len(refused) == 1 and len(tester.vote_logs()) == 1


def test_pending_unknown_and_defeated_proposals_are_refused(tester: Chain) -> None:
    voter = tester.voter()
    pending = tester.new_proposal("# Later")
    nonce = tester.nonce()
    assert voter.vote_state(pending) == "pending"
    with pytest.raises(ProposalNotActive) as info:
        voter.cast(pending, 1)
    assert info.value.state == "pending"
    with pytest.raises(ProposalNotActive) as info:
        voter.cast(123456789, 1)
    assert info.value.state == "unknown"
    mine_until_ended(tester.dep, tester.proposal)
    assert voter.vote_state(tester.proposal) == "defeated"
    with pytest.raises(ProposalNotActive, match="defeated"):
        voter.cast(tester.proposal, 1)
    assert tester.nonce() == nonce


def test_fee_cap_exceeded_refuses(tester: Chain) -> None:
    nonce = tester.nonce()
    cap = tester.w3.eth.get_block("latest")["baseFeePerGas"] / 2 / GWEI
    voter = tester.voter(max_fee_gwei_cap=cap, priority_fee_gwei=0)
    with pytest.raises(FeeCapExceeded, match="above the cap") as info:
        voter.cast(tester.proposal, 1, "x")
    assert info.value.cap_gwei == pytest.approx(cap) and info.value.needed_gwei > cap
    assert tester.nonce() == nonce and not voter.has_voted(tester.proposal, tester.signer.address)


def test_params_variant(tester: Chain) -> None:
    voter = tester.voter()
    if tester.dep.kind == "bravo":
        with pytest.raises(InvalidVote, match="OpenZeppelin"):
            voter.cast(tester.proposal, 1, "x", params=b"\x01")
        return
    voter.cast(tester.proposal, 2, "Abstaining, with params.", params=b"\x01\x02")
    (log,) = tester.vote_logs()
    assert log["event"] == "VoteCastWithParams" and log["args"]["params"] == b"\x01\x02"
    assert log["args"]["support"] == 2
    assert voter.find_cast(tester.proposal, tester.signer.address, 0) is not None


def test_bad_requests_and_wrong_chain_refuse_before_signing(tester: Chain) -> None:
    voter = tester.voter()
    for support in (3, -1, True):
        with pytest.raises(InvalidVote):
            voter.cast(tester.proposal, support)
    with pytest.raises(InvalidVote, match="chain"):
        tester.voter(chain_id=1).cast(tester.proposal, 1)
    with pytest.raises(ConfigError):
        ChainVoter(
            ChainRpc.from_web3(tester.w3),
            tester.dep.governor.address,
            tester.dep.kind,
            tester.key_hex,  # type: ignore[arg-type]
            chain_id=1,
            max_fee_gwei_cap=1,
            priority_fee_gwei=1,
        )
    assert tester.nonce(block="latest") == tester.nonce()


def test_revert_found_by_dry_run_is_normalised(
    tester: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A vote that lands between the check and the send: the dry run's revert (a custom
    error on OZ, a reason string on Bravo) becomes AlreadyVoted, nothing is sent."""
    voter = tester.voter()
    voter.cast(tester.proposal, 1)
    monkeypatch.setattr(voter.reads, "has_voted", lambda *_: False)
    nonce = tester.nonce()
    with pytest.raises(AlreadyVoted):
        voter.cast(tester.proposal, 1)
    assert tester.nonce() == nonce


class _FailingSigner:
    """Raises with the key in its message, as a careless signer might."""

    def __init__(self, chain: Chain, other: bool = False) -> None:
        self.chain = chain
        self.address = chain.signer.address
        self.other = Account.create() if other else None

    def sign_transaction(self, tx: dict[str, Any]) -> SignedTransaction:
        if self.other is not None:
            return self.other.sign_transaction(tx)  # type: ignore[no-any-return]
        raise RuntimeError(f"cannot sign with key 0x{self.chain.key_hex}")


def test_signer_failures_send_nothing_and_never_echo_the_key(tester: Chain) -> None:
    nonce = tester.nonce()
    for signer, match in (
        (_FailingSigner(tester), "failed to sign"),
        (_FailingSigner(tester, True), "recovers to"),
    ):
        voter = ChainVoter(
            ChainRpc.from_web3(tester.w3),
            tester.dep.governor.address,
            tester.dep.kind,
            signer,
            chain_id=tester.w3.eth.chain_id,
            max_fee_gwei_cap=100,
            priority_fee_gwei=1,
            gas_limit=GAS,
        )
        with pytest.raises(SigningFailed, match=match) as info:
            voter.cast(tester.proposal, 1)
        _assert_no_key(tester, info.value)
        exc = info.value  # no chained exception carries the signer's own message
        assert exc.__cause__ is None and (exc.__context__ is None or exc.__suppress_context__)
    assert tester.nonce() == nonce


def test_fees_bump_by_at_least_an_eighth() -> None:
    fees = Fees(max_fee=2 * GWEI, priority_fee=GWEI)
    bumped = fees.bumped()
    assert bumped.max_fee >= fees.max_fee * 1.125 and bumped.priority_fee >= GWEI * 1.125
    assert Fees(max_fee=1, priority_fee=0).bumped() == Fees(max_fee=2, priority_fee=1)
    fresh = Fees(max_fee=10 * GWEI, priority_fee=3 * GWEI)
    assert fees.bumped(fresh) == fresh


class _StubRpc:
    """Answers eth_sendRawTransaction with ``error`` and says whether the node has the tx."""

    label = "stub"

    def __init__(self, error: Exception | None, node_has: bool = False) -> None:
        self.error, self.node_has = error, node_has

    def call(self, what: str, fn: Any) -> Any:
        if what == "eth_sendRawTransaction" and self.error is not None:
            raise self.error
        return self.node_has if what == "eth_getTransactionByHash" else None


@pytest.mark.parametrize(
    ("error", "node_has", "kind"),
    [
        (None, False, "sent"),
        (SourceError("stub: send failed: already known (code -32000)"), False, "sent"),
        (SourceError("stub: send failed: nonce too low (code -32003)"), True, "sent"),
        (SourceError("stub: send failed: nonce too low (code -32003)"), False, "nonce_used"),
        (
            SourceError("stub: send failed: Invalid transaction nonce: Expected 3"),
            False,
            "nonce_used",
        ),
        (SourceError("stub: send failed: insufficient funds"), False, "refused"),
        (SourceUnavailable("stub: send kept failing after 7 tries"), False, "unknown"),
    ],
)
def test_broadcast_tells_send_failures_apart(
    error: Exception | None, node_has: bool, kind: str
) -> None:
    signed = Account.create().sign_transaction(
        {
            "type": 2,
            "chainId": 1,
            "nonce": 0,
            "to": "0x" + "11" * 20,
            "value": 0,
            "gas": 21000,
            "maxFeePerGas": 2,
            "maxPriorityFeePerGas": 1,
        }
    )
    assert broadcast(_StubRpc(error, node_has), signed).kind == kind  # type: ignore[arg-type]


# ------------------------------------------------------------------ anvil
@pytest.fixture(scope="module")
def node() -> Iterator[AnvilNode]:
    with start_anvil() as running:
        yield running


@pytest.fixture
def anvil(node: AnvilNode) -> Iterator[Chain]:
    w3 = node.web3()
    key = Account.create().key
    address = Account.from_key(key).address
    evm.rpc(w3, "anvil_impersonateAccount", [address])  # lets the harness delegate for it
    evm.send_eth(w3, sender=w3.eth.accounts[0], to=address, value=10**18)
    chain = _chain(w3, "oz", bytes(key))
    _KEYS.append(chain.key_hex)
    evm.rpc(w3, "anvil_stopImpersonatingAccount", [address])
    yield chain
    set_automine(w3, True)


class _Clock:
    """Fake time: ``sleep`` advances it and may run a hook (mine, say) first."""

    def __init__(self) -> None:
        self.now = 0.0
        self.hook: Any = None

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        if self.hook is not None:
            self.hook()


class _Recording:
    """Records each transaction dict the voter signs."""

    def __init__(self, signer: Signer) -> None:
        self.signer = signer
        self.address = signer.address
        self.signed: list[dict[str, Any]] = []

    def sign_transaction(self, tx: dict[str, Any]) -> SignedTransaction:
        self.signed.append(dict(tx))
        return self.signer.sign_transaction(tx)


def test_anvil_cast_with_estimated_gas(anvil: Chain) -> None:
    voter = anvil.voter()
    receipt = voter.cast(anvil.proposal, 1, "Looks right.")
    assert receipt.status == 1 and receipt.replaced == 0 and receipt.gas_used > 0
    tx = anvil.w3.eth.get_transaction(receipt.tx_hash)  # type: ignore[arg-type]
    assert tx["type"] == 2 and tx["gas"] >= receipt.gas_used
    assert voter.has_voted(anvil.proposal, anvil.signer.address)
    with pytest.raises(AlreadyVoted):
        voter.cast(anvil.proposal, 1)


def test_anvil_send_refused_for_lack_of_funds(anvil: Chain) -> None:
    evm.rpc(anvil.w3, "anvil_setBalance", [anvil.signer.address, "0x0"])
    sent: list[str] = []
    with pytest.raises(TransactionRefused, match="nothing was broadcast") as info:
        anvil.voter().cast(anvil.proposal, 1, on_sent=sent.append)
    assert sent == [] and anvil.nonce() == anvil.nonce("latest")
    _assert_no_key(anvil, info.value)


def test_anvil_revert_is_normalised(anvil: Chain, monkeypatch: pytest.MonkeyPatch) -> None:
    voter = anvil.voter()
    voter.cast(anvil.proposal, 1)
    monkeypatch.setattr(voter.reads, "has_voted", lambda *_: False)
    with pytest.raises(AlreadyVoted):
        voter.cast(anvil.proposal, 0)  # anvil: ContractCustomError GovernorAlreadyCastVote
    later = anvil.new_proposal("# Not yet")
    monkeypatch.setattr(voter.reads, "state", lambda _pid: "active")
    with pytest.raises(ProposalNotActive):
        voter.cast(later, 1)  # GovernorUnexpectedProposalState from the estimate


def test_stuck_transaction_is_replaced_with_higher_fees(anvil: Chain) -> None:
    clock = _Clock()
    sent: list[str] = []
    signer = _Recording(anvil.signer)

    def mine_once_replaced() -> None:
        if len(sent) == 2:
            evm.rpc(anvil.w3, "evm_mine", [])

    clock.hook = mine_once_replaced
    voter = ChainVoter(
        ChainRpc.from_web3(anvil.w3),
        anvil.dep.governor.address,
        "oz",
        signer,
        chain_id=anvil.w3.eth.chain_id,
        max_fee_gwei_cap=100,
        priority_fee_gwei=1,
        receipt_timeout_s=120,
        replace_after_s=5,
        max_replacements=3,
        poll_interval_s=1,
        sleep=clock.sleep,
        clock=clock,
    )
    nonce = anvil.nonce()
    set_automine(anvil.w3, False)
    receipt = voter.cast(anvil.proposal, 1, "Stuck, then replaced.", on_sent=sent.append)
    assert receipt.replaced == 1 and receipt.tx_hash == sent[1] and len(sent) == 2
    first, second = signer.signed
    assert first["nonce"] == second["nonce"] == nonce
    assert second["maxFeePerGas"] >= first["maxFeePerGas"] * 1.125
    assert second["maxPriorityFeePerGas"] >= first["maxPriorityFeePerGas"] * 1.125
    assert len(anvil.vote_logs()) == 1 and anvil.nonce("latest") == nonce + 1
    with pytest.raises(TransactionNotFound):
        anvil.w3.eth.get_transaction_receipt(sent[0])  # type: ignore[arg-type]


def test_no_replacement_once_the_vote_landed(anvil: Chain) -> None:
    """The original is mined just before the replacement is due: has_voted stops it."""
    clock = _Clock()
    sent: list[str] = []
    voter = anvil.voter(
        replace_after_s=5, poll_interval_s=1, sleep=clock.sleep, clock=clock, receipt_timeout_s=60
    )
    waiter = voter.waiter
    real_mined, real_landed = waiter._mined, waiter._landed
    blind = [True]

    def landed(flight: Any) -> Any:
        blind[0] = False
        return real_landed(flight)

    # A lagging provider: receipts and nonces miss the mined original until the replacement
    # is due; only the has_voted check before replacing sees the vote.
    waiter._mined = lambda flight: None if blind[0] else real_mined(flight)  # type: ignore[method-assign]
    waiter._nonce_used = lambda _nonce: False  # type: ignore[method-assign]
    waiter._landed = landed  # type: ignore[method-assign]
    set_automine(anvil.w3, False)
    clock.hook = lambda: evm.rpc(anvil.w3, "evm_mine", []) if clock.now == 2 else None
    receipt = voter.cast(anvil.proposal, 1, "Once.", on_sent=sent.append)
    assert receipt.replaced == 0 and sent == [receipt.tx_hash]
    assert len(anvil.vote_logs()) == 1


def test_replacement_never_passes_the_fee_cap(
    anvil: Chain, caplog: pytest.LogCaptureFixture
) -> None:
    clock = _Clock()
    sent: list[str] = []
    voter = anvil.voter(
        max_fee_gwei_cap=1.05,  # the first send fits (tip 1 gwei + a tiny base fee); +12.5 % not
        receipt_timeout_s=20,
        replace_after_s=5,
        poll_interval_s=1,
        sleep=clock.sleep,
        clock=clock,
    )
    set_automine(anvil.w3, False)
    with pytest.raises(CastOutcomeUnknown):
        voter.cast(anvil.proposal, 1, "Capped.", on_sent=sent.append)
    assert len(sent) == 1 and "would pass the cap" in caplog.text
    evm.rpc(anvil.w3, "evm_mine", [])
    assert voter.find_cast(anvil.proposal, anvil.signer.address, 0) == sent[0]


def test_timeout_raises_outcome_unknown_with_the_hashes(anvil: Chain) -> None:
    clock = _Clock()
    sent: list[str] = []
    voter = anvil.voter(
        receipt_timeout_s=20,
        replace_after_s=8,
        max_replacements=1,
        poll_interval_s=1,
        sleep=clock.sleep,
        clock=clock,
    )
    set_automine(anvil.w3, False)
    with pytest.raises(CastOutcomeUnknown) as info:
        voter.cast(anvil.proposal, 1, "Never mined in time.", on_sent=sent.append)
    assert info.value.tx_hashes == tuple(sent) and len(sent) == 2
    assert isinstance(info.value, VoteError) and info.value.vote_id == sent[-1]
    evm.rpc(anvil.w3, "evm_mine", [])
    found = voter.find_cast(anvil.proposal, anvil.signer.address, anvil.dep.start_block)
    assert found == sent[-1] and len(anvil.vote_logs()) == 1


class _Crash(Exception):
    pass


def test_crash_after_send_is_reconciled_without_a_second_transaction(anvil: Chain) -> None:
    recorded: list[str] = []

    def record_then_crash(tx_hash: str) -> None:
        recorded.append(tx_hash)
        raise _Crash

    voter = anvil.voter()
    start = anvil.w3.eth.block_number
    set_automine(anvil.w3, False)
    with pytest.raises(_Crash):
        voter.cast(anvil.proposal, 1, "Recorded, then crashed.", on_sent=record_then_crash)
    (tx_hash,) = recorded
    assert not voter.has_voted(anvil.proposal, anvil.signer.address)  # still in the pool
    nonce = anvil.nonce()
    with pytest.raises(TransactionRefused, match="pending"):
        voter.cast(anvil.proposal, 1, "Again, after the restart.")
    assert anvil.nonce() == nonce
    evm.rpc(anvil.w3, "evm_mine", [])
    assert voter.has_voted(anvil.proposal, anvil.signer.address)
    assert voter.find_cast(anvil.proposal, anvil.signer.address, start) == tx_hash
    with pytest.raises(AlreadyVoted):
        voter.cast(anvil.proposal, 1, "Again, after the restart.")
    assert anvil.nonce() == nonce and len(anvil.vote_logs()) == 1
