"""Full `steward run` workers (ingest, index into a Chroma server, the precedent analyst,
voting) on PostgreSQL, a delegate in approval mode with a signer: the delegate approves
from the command line, the worker that casts is killed with -9 while the sequencer holds
its answer (an event), and the other worker takes the vote over, finds it on the hub and
never sends it again: exactly one vote for the delegate on the proposal."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from typer.testing import CliRunner

from agent.cli.main import app
from agent.store import RecordStore
from agent.store.decisions import DecisionLog
from agent.store.leases import LeaseStore
from agent.voting.intent_store import IntentStore
from tests import postgres
from tests.cluster.chroma_server import chroma_server
from tests.cluster.harness import DAY, Worker, postgres_server, wait_until
from tests.fakes.snapshot_hub import FakeHub
from tests.fakes.snapshot_sequencer import FakeSequencer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        postgres.unavailable() is not None, reason=f"needs PostgreSQL: {postgres.unavailable()}"
    ),
]

SPACE = "ens.eth"
KEY = "0x" + "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
ALICE = Account.from_key(KEY).address
BODY = (
    "This proposal funds the ENS public goods working group with {n} USDC for six months "
    "of open source grants. Grants go to web3 public goods and documentation."
)
POLICY = """---
id: public-goods
owner: alice.eth
principles:
  - id: fund-public-goods
    text: Fund open source public goods that ENS depends on.
escalate:
  confidence_below: 0.1
  categories: []
  on_conflicting_findings: false
---
Alice funds open source public goods.
"""


def _seed(hub: FakeHub) -> str:
    """Five earlier grants alice voted For (the precedents), and the open one to vote on."""
    now = int(hub.now())
    hub.add_space(SPACE)
    for k in range(5):
        created = now - (k + 2) * 7 * DAY
        old = hub.add_proposal(
            SPACE,
            title=f"Fund the public goods working group, round {k + 1}",
            body=BODY.format(n=f"{(k + 1) * 50_000:,}"),
            created=created,
            start=created,
            end=created + 5 * DAY,
            choices=["For", "Against", "Abstain"],
        )
        hub.add_vote(str(old["id"]), voter=ALICE, choice=1, vp=10.0, created=created + 100)
    rec = hub.add_proposal(
        SPACE,
        title="Fund the public goods working group, round 6",
        body=BODY.format(n="300,000"),
        created=now - 3600,
        start=now - 3600,
        end=now + 20 * 3600,
        choices=["For", "Against", "Abstain"],
    )
    return str(rec["id"])


def _config(tmp_path: Path, hub: str, seq: str, db: str, chroma: str) -> Path:
    policy = tmp_path / "policy.md"
    policy.write_text(POLICY)
    config = tmp_path / "config.yaml"
    config.write_text(
        f"""database:
  url: {db}
vector_store:
  url: {chroma}
snapshot:
  hub_url: {hub}
  spaces: [{SPACE}]
  max_retries: 0
analysis:
  policy: {policy}
run:
  ingest_every_s: 3600
  analyse_every_s: 3600
  vote_every_s: 1
voting:
  enabled: true
  sequencer_url: {seq}
  delegates:
    - id: alice
      address: "{ALICE}"
      policy: {policy}
      mode: approval
      approver_users: [1]
      spaces: [{SPACE}]
      signer: {{key_env: ALICE_KEY}}
      min_confidence: 0.2
cluster:
  deployment: test-votes
  lease_s: 3
  renew_every_s: 1
"""
    )
    return config


def test_a_steward_run_worker_killed_mid_vote_leaves_exactly_one_vote(
    tmp_path: Path, steward_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALICE_KEY", KEY)
    entered, release = threading.Event(), threading.Event()
    with (
        postgres_server() as pg,
        chroma_server(tmp_path / "chroma") as chroma,
        FakeHub() as hub,
        FakeSequencer(hub=hub) as seq,
    ):
        pid = _seed(hub)
        uid = f"snapshot:{pid}"
        ingest = seq.ingest

        def accept_then_hang(body: Any) -> dict[str, Any]:
            receipt = ingest(body)  # on the hub now, but the answer never reaches the worker
            entered.set()
            release.wait(timeout=120)
            return receipt

        seq.ingest = accept_then_hang  # type: ignore[method-assign]
        config = _config(tmp_path, hub.url, seq.url, pg.url, chroma.url)
        store = RecordStore(pg.url)
        decisions = DecisionLog(store.engine)
        # The first worker alone until it has decided (so the analysis sees the precedents
        # it indexed), then a second one beside it.
        workers = [Worker(config, tmp_path / "w0")]
        try:
            wait_until(lambda: decisions.current("alice", uid) is not None, 240, "alice's decision")
            decision = decisions.current("alice", uid)
            assert decision is not None and decision.status == "awaiting_approval", decision
            assert decision.choice_label == "For"
            workers.append(Worker(config, tmp_path / "w1"))
            wait_until(lambda: workers[1].logged("joined deployment"), 120, "the second worker")

            approved = CliRunner().invoke(app, ["--config", str(config), "approve", decision.id])
            assert approved.exit_code == 0, approved.output
            assert entered.wait(timeout=120), "no worker sent the vote"
            holder = _holder(store, "vote:alice")
            victim = next(w for w in workers if holder.split(":")[1] == str(w.pid))
            os.kill(victim.pid, signal.SIGKILL)
            victim.proc.wait(timeout=30)
            release.set()
            survivor = next(w for w in workers if w is not victim)
            # Settling moves the intent, then the decision: wait for both, not the first.
            wait_until(
                lambda: (
                    not IntentStore(store.engine).pending()
                    and getattr(decisions.current("alice", uid), "status", None) == "cast"
                ),
                120,
                "the vote to be settled",
            )
            final = decisions.current("alice", uid)
            assert final is not None and final.status == "cast", final
            assert survivor.proc.poll() is None, "the survivor died"
        finally:
            release.set()
            codes = [w.stop() for w in workers]
        assert sorted(codes) == [-signal.SIGKILL, 0], codes
        assert len(seq.accepted) == 1
        on_hub = [v for v in hub.data.votes.values() if v["proposal"] == pid]
        assert [v["voter"].lower() for v in on_hub] == [ALICE.lower()]
        locks = LeaseStore(store.engine).rows("vote-lock:")
        assert [r.takeovers for r in locks] == [1]  # the dead worker's lock, taken on expiry
        store.close()


def _holder(store: RecordStore, name: str) -> str:
    row = next(r for r in LeaseStore(store.engine).rows(name) if r.name == name)
    assert row.holder, f"nobody holds {name}"
    return row.holder
