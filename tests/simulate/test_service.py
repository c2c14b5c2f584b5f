"""The whole path: ingest a Governor from the anvil mainnet, simulate what is due, then let
the hard rules and the vote guardrails read the report. An outflow hidden inside a container
call (the Forwarder, a container the decoder cannot open) is caught and blocks an automatic
vote; a real Safe's execTransaction is opened by the decoder and counted by the hard rules."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3
from web3.contract import Contract

from agent.analysis.policy import Policy, load_policy
from agent.analysis.service import analyse
from agent.decode.stored import stored_actions
from agent.ingest import ingest
from agent.models import Proposal, ProposalExtra
from agent.records.assessment import Draft, Facts, HardRuleResult
from agent.records.simulation import SimulationReport
from agent.settings import ChainSettings, DelegateSettings
from agent.simulate.service import SimulationService
from agent.store import RecordStore
from agent.voting.guardrails import assessment_blockers
from connectors.chain.rpc import ChainRpc
from connectors.chain.simulator import ForkSimulator
from connectors.chain.source import ChainSource
from tests.chain.actions import transfer_token
from tests.chain.scenario import cancel, propose
from tests.simulate.conftest import Mainnet, hidden_transfer
from tests.simulate.safe import exec_transaction

PROJECT = Path(__file__).resolve().parents[2]
POLICY = load_policy(PROJECT / "config" / "policies" / "conservative-treasury.yaml")
_SERIAL = itertools.count()
ATTACKER = Web3.to_checksum_address("0x" + "66" * 20)


class ConfidentAnalyst:
    """A model that is sure the proposal is fine (the outside world: an LLM's draft)."""

    id = "confident"
    prompt_hash = "confident-1"

    def __init__(self) -> None:
        self.seen: list[Proposal] = []

    def draft(
        self, proposal: Proposal, policy: Policy, facts: Facts, hard_rules: list[HardRuleResult]
    ) -> Draft:
        self.seen.append(proposal)
        return Draft(
            summary="Routine maintenance.",
            category="governance",
            findings=[],
            recommendation="FOR",
            confidence=0.95,
        )


def _chain(m: Mainnet, **over: Any) -> ChainSettings:
    dep = m.oz
    fields: dict[str, Any] = {
        "name": "mainnet",
        "rpc_url": m.node.url,
        "chain_id": 31337,
        "confirmations": 0,
        "backoff_max_s": 0.05,
        "governors": [
            {"name": "mainnet-gov", "address": dep.governor.address, "start_block": dep.start_block}
        ],
        "contracts": [
            {
                "address": dep.assets.usdc.address,
                "name": "USDC",
                "kind": "token",
                "symbol": "USDC",
                "decimals": 6,
            },
            {"address": dep.timelock.address, "name": "DAO timelock", "kind": "timelock"},
            {"address": m.forwarder.address, "name": "Endowment", "kind": "multisig"},
        ],
        "simulate": True,
    }
    fields.update(over)
    return ChainSettings(**fields)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RecordStore]:
    s = RecordStore(f"sqlite:///{tmp_path / 'sim.db'}")
    yield s
    s.close()


def _service(store: RecordStore, chain: ChainSettings, **kw: Any) -> SimulationService:
    def simulator(c: ChainSettings) -> ForkSimulator:
        return ForkSimulator(c.url(), timeout_s=kw.get("timeout_s", 120.0), anvil=kw.get("anvil"))

    return SimulationService(store, [chain], simulator)


def _ingest(m: Mainnet, store: RecordStore, chain: ChainSettings) -> None:
    rpc = ChainRpc.connect(chain.url(), label="chain mainnet", timeout=5, backoff_max=0.05)
    ingest(ChainSource(rpc, chain), store)


def _uid(m: Mainnet, pid: int) -> str:
    return f"chain:31337:{m.oz.governor.address.lower()}:{pid}"


def test_an_outflow_hidden_in_a_container_is_caught_and_blocks_an_auto_vote(
    mainnet: Mainnet, store: RecordStore
) -> None:
    usdc = mainnet.oz.assets.usdc
    action = hidden_transfer(mainnet.forwarder, usdc, ATTACKER, 100_000 * 10**6)
    pid = propose(mainnet.oz, [action], "# Routine maintenance of the endowment\n\nNo funds move.")
    chain = _chain(mainnet)
    _ingest(mainnet, store, chain)
    uid = _uid(mainnet, pid)
    stored = store.get(uid)
    assert stored is not None and stored.proposal.extra.raw_actions

    report = _service(store, chain).run(uid)

    assert report.status == "simulated", report.why
    [move] = report.token_moves
    assert (move.source, move.destination, move.amount) == (
        mainnet.forwarder.address,
        ATTACKER,
        "100000",
    )
    [hidden] = [f for f in report.flags if f.kind == "hidden_outflow"]
    assert hidden.severity == "high" and "100,000 USDC" in hidden.detail
    saved = store.latest_simulation(uid)
    assert saved is not None and saved.report_hash() == report.report_hash()

    analyst = ConfidentAnalyst()
    outcome = analyse(stored.proposal, POLICY, analyst, store)
    a = outcome.assessment
    assert a.provenance.simulation_hash == report.report_hash()
    outflow = next(r for r in a.hard_rules if r.rule == "max_outflow")
    assert outflow.outcome == "pass" and "simulated on a fork" in outflow.detail  # under 250k
    assert a.escalate and any("simulation:" in r for r in a.escalation_reasons)
    assert "100,000 USDC" in (analyst.seen[0].extra.simulation_summary or "").replace(".000000", "")
    delegate = DelegateSettings(
        id="d",
        address="0x" + "11" * 20,
        policy="p",
        mode="auto",
        governors=["mainnet-gov"],
        signer={"key_env": "UNUSED_KEY"},
    )
    codes = {b.code for b in assessment_blockers(delegate, stored.proposal, a)}
    assert "escalated" in codes


def test_a_hidden_outflow_over_the_limit_fails_max_outflow_from_the_simulation(
    mainnet: Mainnet, store: RecordStore
) -> None:
    action = hidden_transfer(mainnet.forwarder, mainnet.oz.assets.usdc, ATTACKER, 1_000_000 * 10**6)
    pid = propose(mainnet.oz, [action], "# Endowment housekeeping")
    chain = _chain(mainnet)
    _ingest(mainnet, store, chain)
    _service(store, chain).run(_uid(mainnet, pid))
    stored = store.get(_uid(mainnet, pid))
    assert stored is not None

    a = analyse(stored.proposal, POLICY, ConfidentAnalyst(), store).assessment

    outflow = next(r for r in a.hard_rules if r.rule == "max_outflow")
    assert outflow.outcome == "fail" and a.recommendation == "AGAINST"
    assert "1,000,000" in outflow.detail and "simulated on a fork" in outflow.detail


def test_run_due_simulates_open_proposals_once_then_when_stale(
    mainnet: Mainnet, store: RecordStore
) -> None:
    pid = propose(
        mainnet.oz,
        [transfer_token(mainnet.oz.assets.usdc, ATTACKER, 10**6, symbol="USDC")],
        "# A small payment",
    )
    chain = _chain(mainnet)
    _ingest(mainnet, store, chain)
    service = _service(store, chain)
    first = service.run_due()
    assert _uid(mainnet, pid) in {r.uid for r in first}
    assert service.run_due() == []  # fresh reports: nothing is due
    later = SimulationService(
        store, [chain], service.simulator_for, clock=lambda: datetime.now(UTC) + timedelta(hours=2)
    )
    assert _uid(mainnet, pid) in {r.uid for r in later.run_due()}


# ---- "not simulated: why", stored, never a gap --------------------------------------
def _one(mainnet: Mainnet, store: RecordStore, chain: ChainSettings) -> tuple[str, ChainSettings]:
    pid = propose(
        mainnet.oz,
        [transfer_token(mainnet.oz.assets.usdc, ATTACKER, 1, symbol="USDC")],
        f"# One more ({next(_SERIAL)})",
    )
    _ingest(mainnet, store, _chain(mainnet))
    return _uid(mainnet, pid), chain


def _stored_why(store: RecordStore, uid: str) -> str:
    report = store.latest_simulation(uid)
    assert report is not None and report.status == "not_simulated"
    return report.why or ""


def test_no_rpc_is_stored_as_not_simulated_and_the_url_never_shows(
    mainnet: Mainnet, store: RecordStore
) -> None:
    uid, chain = _one(mainnet, store, _chain(mainnet, rpc_url="http://127.0.0.1:1/sekrit-key"))
    report = _service(store, chain).run(uid)
    assert report.status == "not_simulated" and "anvil" in (report.why or "")
    assert "sekrit" not in _stored_why(store, uid)


def test_anvil_missing_and_time_limit_are_stored(mainnet: Mainnet, store: RecordStore) -> None:
    uid, chain = _one(mainnet, store, _chain(mainnet))
    _service(store, chain, anvil="/nonexistent/anvil").run(uid)
    assert "anvil is not installed" in _stored_why(store, uid)
    _service(store, chain, timeout_s=1e-6).run(uid)
    assert "time limit exceeded" in _stored_why(store, uid)


def test_a_canceled_proposal_can_never_execute(mainnet: Mainnet, store: RecordStore) -> None:
    pid = propose(
        mainnet.oz,
        [transfer_token(mainnet.oz.assets.usdc, ATTACKER, 1, symbol="USDC")],
        "# Withdrawn",
    )
    cancel(mainnet.oz, pid)
    chain = _chain(mainnet)
    _ingest(mainnet, store, chain)
    _service(store, chain).run(_uid(mainnet, pid))
    assert "canceled" in _stored_why(store, _uid(mainnet, pid))


def test_a_proposal_stored_without_raw_actions_says_so(
    mainnet: Mainnet, store: RecordStore
) -> None:
    uid, chain = _one(mainnet, store, _chain(mainnet))
    stored = store.get(uid)
    assert stored is not None
    kept = stored.proposal.extra.model_dump(exclude={"raw_actions"})
    store.apply_proposals([stored.proposal.model_copy(update={"extra": ProposalExtra(**kept)})])
    _service(store, chain).run(uid)
    assert "ingest --full" in _stored_why(store, uid)


def test_reports_are_versioned_by_their_hash(mainnet: Mainnet, store: RecordStore) -> None:
    uid, chain = _one(mainnet, store, _chain(mainnet))
    service = _service(store, chain)
    a = service.run(uid)
    b = service.run(uid)
    assert isinstance(b, SimulationReport) and a.report_hash() == b.report_hash()
    assert b.created >= a.created


def test_the_runner_ingest_job_simulates_what_is_due(mainnet: Mainnet, tmp_path: Path) -> None:
    from agent.app import App
    from agent.runner.jobs import ingest_and_index
    from agent.settings import Settings

    propose(
        mainnet.oz,
        [transfer_token(mainnet.oz.assets.usdc, ATTACKER, 3, symbol="USDC")],
        f"# Runner ({next(_SERIAL)})",
    )
    chain = _chain(mainnet).model_dump(mode="json")
    chain["rpc_url"] = mainnet.node.url
    app = App(Settings(home=tmp_path / "home", chains=[chain]))
    try:
        result = ingest_and_index(app, app.chain_sources(["all"]), index=False)
    finally:
        app.close()
    assert result.simulated >= 1 and not result.errors
    assert result.counts()["simulated"] == result.simulated


def test_a_real_safe_transaction_is_opened_simulated_and_counted(
    mainnet: Mainnet, safe: Contract, store: RecordStore
) -> None:
    """The timelock, the Safe's owner, has it send 300,000 USDC: the registry's audited Safe
    runs the transfer on the fork, and the decoder sees it through execTransaction."""
    dep = mainnet.oz
    usdc = dep.assets.usdc
    grantee = Web3.to_checksum_address("0x" + "5a" * 20)
    amount = 300_000 * 10**6
    inner = bytes.fromhex(usdc.encode_abi("transfer", args=[grantee, amount])[2:])
    action = exec_transaction(safe, dep.timelock.address, usdc.address, inner)
    pid = propose(dep, [action], "# Pay the grantee from the Safe")
    safe_entry = {"address": safe.address, "name": "Grants Safe", "kind": "multisig"}
    known = [c.model_dump() for c in _chain(mainnet).contracts]
    chain = _chain(mainnet, contracts=[*known, safe_entry])
    _ingest(mainnet, store, chain)
    uid = _uid(mainnet, pid)

    report = _service(store, chain).run(uid)

    assert report.status == "simulated", report.why
    assert [a.status for a in report.actions] == ["success"]
    [move] = report.token_moves
    assert (move.kind, move.symbol, move.decimals, move.amount) == ("transfer", "USDC", 6, "300000")
    assert (move.source, move.destination) == (safe.address, grantee)
    assert not [f for f in report.flags if f.kind == "hidden_outflow"]  # the decoder saw it
    assert usdc.functions.balanceOf(grantee).call() == 0  # only the fork moved it

    stored = store.get(uid)
    assert stored is not None
    [top] = stored_actions(stored.proposal.extra)
    assert top.function and top.function.startswith("execTransaction(")
    [transfer] = top.inner
    assert transfer.function == "transfer(address,uint256)"
    assert (transfer.target, transfer.caller) == (usdc.address, safe.address)
    a = analyse(stored.proposal, POLICY, ConfidentAnalyst(), store).assessment
    outflow = next(r for r in a.hard_rules if r.rule == "max_outflow")
    assert outflow.outcome == "fail" and a.recommendation == "AGAINST"
    assert "300,000 USDC (decoded calls)" in outflow.detail, outflow.detail
