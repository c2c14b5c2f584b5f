"""`steward audit log | verify | export` as a user runs them, on the STEWARD_HOME store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from agent.cli.main import app
from agent.store import RecordStore, schema
from agent.voting.audit import head_path
from agent.voting.audit_log import AuditLog
from agent.voting.intent_store import IntentStore
from agent.voting.models import Intent
from tests.voting_store import DELEGATE, bundle, reason_for

runner = CliRunner()


@pytest.fixture
def seeded(steward_home: Path) -> Iterator[tuple[RecordStore, Intent]]:
    store = RecordStore(f"sqlite:///{steward_home / 'steward.db'}")
    audit = AuditLog(store.engine, head_path(steward_home))
    b = bundle()
    audit.append("recommended", proposal_uid=b.proposal_uid, data={"rec": "FOR"})
    intent = IntentStore(store.engine).create_intent(
        b, delegate=DELEGATE, target="snapshot", choice=1, reason=reason_for(b)
    )
    assert intent is not None
    audit.append("intent", delegate=DELEGATE, proposal_uid=b.proposal_uid, data={"id": intent.id})
    audit.append("paused", data={"by": "operator"})
    yield store, intent
    store.close()


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_log(seeded: tuple[RecordStore, Intent]) -> None:
    code, out, _ = _run("audit", "log", "--json", "--limit", "2")
    assert code == 0
    assert [e["kind"] for e in json.loads(out)] == ["intent", "paused"]
    code, out, _ = _run("audit", "log")
    assert code == 0 and "recommended" in out and "snapshot:0x1" in out


def test_verify_ok_then_broken(seeded: tuple[RecordStore, Intent]) -> None:
    store, _ = seeded
    code, out, _ = _run("audit", "verify")
    assert code == 0 and "ok" in out and "3 entries" in out
    with store.engine.begin() as conn:
        conn.execute(update(schema.audit_log).where(schema.audit_log.c.seq == 2).values(ts=5))
    code, out, _ = _run("audit", "verify")
    assert code == 1 and "BROKEN at seq 2" in out and "edited" in out
    code, out, _ = _run("audit", "verify", "--json")
    assert code == 1 and json.loads(out)["broken_seq"] == 2


def test_export_by_intent_and_by_proposal(
    seeded: tuple[RecordStore, Intent], tmp_path: Path
) -> None:
    store, intent = seeded
    out_file = tmp_path / "out" / "vote.json"
    code, _, err = _run("audit", "export", intent.id, "--out", str(out_file))
    assert code == 0 and "exported" in err
    doc = json.loads(out_file.read_text())
    [item] = doc["intents"]
    assert item["intent"]["id"] == intent.id and item["bundle"] == intent.bundle
    assert item["provenance"] == {
        "stored": intent.provenance_hash,
        "recomputed": intent.provenance_hash,
        "matches": True,
        "reason_cites_it": True,
    }
    assert [e["kind"] for e in doc["audit"]] == ["recommended", "intent"]

    code, out, _ = _run("audit", "export", "snapshot:0x1")
    assert code == 0 and json.loads(out)["intents"][0]["intent"]["id"] == intent.id

    tampered = {**intent.bundle, "action_flags": ["nothing-to-see"]}
    with store.engine.begin() as conn:
        conn.execute(
            update(schema.vote_intents)
            .where(schema.vote_intents.c.id == intent.id)
            .values(bundle=tampered)
        )
    code, out, err = _run("audit", "export", intent.id)
    assert code == 1 and "provenance mismatch" in err
    assert json.loads(out)["intents"][0]["provenance"]["matches"] is False


def test_export_unknown(seeded: tuple[RecordStore, Intent]) -> None:
    code, _, err = _run("audit", "export", "nothing-like-this")
    assert code == 1 and "not found" in err
