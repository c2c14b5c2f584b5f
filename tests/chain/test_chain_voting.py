"""The voting loop casting on a real local chain: anvil over HTTP, an OZ Governor.

Ingest through ChainSource, decide with the LLM analyst (scripted model: the only
fake), cast with castVoteWithReason signed by a keystore-free env key, reconcile
through hasVoted, and check the chain's own VoteCast event.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3

from agent.analysis.llm import LLMAnalyst
from agent.analysis.policy import Policy, load_policy
from agent.analysis.service import analyse
from agent.analysis.tools import AnalysisTools
from agent.ingest import ingest
from agent.models import Proposal
from agent.records.assessment import Assessment
from agent.settings import ChainSettings, DelegateSettings, VotingSettings
from agent.store import RecordStore
from agent.voting.audit import head_path
from agent.voting.audit_log import AuditLog
from agent.voting.ports import CastReceipt, SentCallback
from agent.voting.service import VotingService
from connectors.chain.governor import GovernorReader
from connectors.chain.rpc import ChainRpc
from connectors.chain.source import ChainSource
from connectors.chain.vote_sink import ChainVoteSink
from connectors.chain.vote_tx import ChainVoter
from connectors.signers import load_signer
from tests.chain import evm
from tests.chain.actions import grant_spender, upgrade_box
from tests.chain.anvil import AnvilNode
from tests.chain.deploy import OzDeployment, deploy_oz
from tests.chain.scenario import mine_until_active, propose
from tests.conftest import PROJECT
from tests.fakes.chat_model import ScriptedChatModel, draft_call
from tests.voting import passing_track

POLICY = str(PROJECT / "config" / "policies" / "ens-constitution.md")
DRAFT: dict[str, Any] = {
    "summary": "Appoints a treasury steward.",
    "category": "governance",
    "findings": [],
    "risk_flags": [],
    "recommendation": "FOR",
    "confidence": 0.9,
    "rationale": "Routine appointment.",
}


class Crash(BaseException):
    pass


class ChainWorld:
    def __init__(self, node: AnvilNode, tmp: Path) -> None:
        self.w3 = node.web3()
        self.url = node.url
        self.tmp = tmp
        account = Account.create()
        self.key = "0x" + bytes(account.key).hex()
        self.signer = load_signer({"private_key_env": "K"}, environ={"K": self.key})
        evm.send_eth(self.w3, sender=self.w3.eth.accounts[0], to=self.signer.address, value=10**19)
        evm.rpc(self.w3, "anvil_impersonateAccount", [self.signer.address])  # to delegate
        self.dep: OzDeployment = deploy_oz(
            self.w3, voters=[self.signer.address, *self.w3.eth.accounts[2:4]]
        )
        evm.rpc(self.w3, "anvil_stopImpersonatingAccount", [self.signer.address])
        self.store = RecordStore(f"sqlite:///{tmp / 'steward.db'}")
        self.cfg = ChainSettings(
            name="anvil",
            rpc_url=self.url,
            chain_id=31337,
            confirmations=0,
            governors=[
                {
                    "name": "gov",
                    "address": self.dep.governor.address,
                    "kind": "oz",
                    "start_block": self.dep.start_block,
                }
            ],
        )

    def propose(self, action: Any, text: str) -> str:
        pid = propose(self.dep, [action], text, proposer=self.w3.eth.accounts[2])
        mine_until_active(self.dep, pid)
        rpc = ChainRpc.connect(self.url, label="chain anvil")
        ingest(ChainSource(rpc, self.cfg), self.store, votes=True)
        return f"chain:31337:{self.dep.governor.address.lower()}:{pid}"

    def analyse(self, proposal: Proposal, policy: Policy) -> Assessment:
        model = ScriptedChatModel([draft_call(DRAFT)] * 4)
        analyst = LLMAnalyst(model, "fake:model", tools=AnalysisTools(self.store))
        return analyse(proposal, policy, analyst, self.store).assessment

    def sink(self, on_sent_crash: bool = False) -> ChainVoteSink:
        rpc = ChainRpc.connect(self.url, label="chain anvil")
        voter = ChainVoter(
            rpc,
            self.dep.governor.address,
            "oz",
            self.signer,
            chain_id=31337,
            max_fee_gwei_cap=500,
            priority_fee_gwei=1,
            receipt_timeout_s=20,
            poll_interval_s=0.05,
        )
        reader = GovernorReader(rpc, self.dep.governor.address, "oz")
        return CrashAfterSend(voter, reader) if on_sent_crash else ChainVoteSink(voter, reader)

    def service(self, sink: ChainVoteSink | None = None, **kw: Any) -> VotingService:
        fields: dict[str, Any] = {
            "id": "carol",
            "address": self.signer.address,
            "policy": POLICY,
            "mode": "auto",
            "governors": ["gov"],
            "signer": {"key_env": "CAROL_KEY"},
            "window_h": 10_000,
            "veto_window_h": 0,
            "deadline_margin_min": 1,
        }
        delegate = DelegateSettings(**{**fields, **kw})
        the_sink = sink or self.sink()
        return VotingService(
            self.store,
            VotingSettings(enabled=True, delegates=[delegate]),
            home=self.tmp,
            pause_path=self.tmp / "PAUSE",
            policy=load_policy,
            analyse=self.analyse,
            sink_for=lambda _d, _p: the_sink,
            audit=AuditLog(self.store.engine, head_path(self.tmp)),
            secrets=lambda: [self.key],
            clock=self.chain_time,  # the harness mines 12 s blocks: chain time runs ahead
            track_record=passing_track,
        )

    def chain_time(self) -> datetime:
        return datetime.fromtimestamp(evm.latest_timestamp(self.w3), UTC)

    def vote_events(self) -> list[Any]:
        return list(
            self.dep.governor.events.VoteCast().get_logs(
                from_block=self.dep.start_block, argument_filters={"voter": self.signer.address}
            )
        )


class CrashAfterSend(ChainVoteSink):
    """The process dies right after the transaction left (its hash recorded)."""

    def cast(
        self,
        proposal: Proposal,
        choice: int,
        reason: str,
        *,
        on_sent: SentCallback,
        resend: dict[str, Any] | None = None,
    ) -> CastReceipt:
        def record_then_die(ref: str, keep: dict[str, object]) -> None:
            on_sent(ref, keep)
            raise Crash

        return super().cast(proposal, choice, reason, on_sent=record_then_die, resend=resend)


@pytest.fixture
def chain(anvil_node: AnvilNode, anvil_w3: Web3, tmp_path: Path) -> Iterator[ChainWorld]:
    world = ChainWorld(anvil_node, tmp_path)
    yield world
    world.store.close()


def test_auto_mode_casts_one_vote_on_chain_with_a_verifiable_reason(chain: ChainWorld) -> None:
    uid = chain.propose(
        grant_spender(chain.dep.assets.treasury, chain.w3.eth.accounts[5]), "# Appoint a steward"
    )
    svc = chain.service()
    report = svc.tick()
    assert report.outcomes[f"carol:{uid}"] == "confirmed", report
    events = chain.vote_events()
    assert len(events) == 1
    args = events[0]["args"]
    assert args["support"] == 1  # FOR
    decision = svc.decisions.current("carol", uid)
    assert decision is not None and decision.status == "cast"
    assert args["reason"] == decision.data.reason
    assert args["reason"].endswith(decision.data.provenance_hash)
    svc.tick()
    svc.tick()
    assert len(chain.vote_events()) == 1  # never twice
    assert svc.audit.verify().ok


def test_approval_mode_casts_only_after_approval(chain: ChainWorld) -> None:
    uid = chain.propose(
        grant_spender(chain.dep.assets.treasury, chain.w3.eth.accounts[6]), "# Appoint another"
    )
    svc = chain.service(mode="approval", approver_users=[1])
    svc.tick()
    assert chain.vote_events() == []
    decision = svc.decisions.current("carol", uid)
    assert decision is not None and svc.approve(decision.id, by="discord:1")
    assert svc.tick().outcomes[f"carol:{uid}"] == "confirmed"
    assert len(chain.vote_events()) == 1


def test_a_failed_hard_rule_means_no_transaction(chain: ChainWorld) -> None:
    uid = chain.propose(
        upgrade_box(chain.dep.assets.box, chain.dep.assets.box_v2.address), "# Upgrade the box"
    )
    svc = chain.service()
    svc.tick()
    decision = svc.decisions.current("carol", uid)
    assert decision is not None and decision.status == "blocked"
    assert "hard_rule_failed" in [b.code for b in decision.data.blockers]
    assert chain.vote_events() == []


def test_a_crash_after_sending_is_reconciled_from_has_voted(chain: ChainWorld) -> None:
    uid = chain.propose(
        grant_spender(chain.dep.assets.treasury, chain.w3.eth.accounts[7]), "# Appoint a third"
    )
    with pytest.raises(Crash):
        chain.service(chain.sink(on_sent_crash=True)).tick()
    restarted = chain.service()
    report = restarted.tick()
    assert report.reconciled == 1
    intent = restarted.intents.for_proposal("carol", uid)
    assert intent is not None and intent.status in ("confirmed", "reconciled_existing")
    assert intent.external_ref is not None and intent.external_ref.startswith("0x")
    assert len(chain.vote_events()) == 1
