"""`steward approve | veto | pause | resume` on the STEWARD_HOME store, as a user runs them."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from agent.cli.main import app
from agent.records.decision import DecisionData
from agent.store import RecordStore
from agent.store.decisions import DecisionLog
from agent.voting.audit import head_path
from agent.voting.audit_log import AuditLog

runner = CliRunner()


def _config(tmp_path: Path) -> Path:
    cfg = tmp_path / "steward.yaml"
    delegate = {
        "id": "alice",
        "address": "0x" + "11" * 20,
        "policy": "config/policies/ens-constitution.md",
        "mode": "approval",
        "spaces": ["ens.eth"],
        "signer": {"key_env": "ALICE_KEY"},
        "approver_users": [1],
    }
    cfg.write_text(yaml.safe_dump({"voting": {"enabled": True, "delegates": [delegate]}}))
    return cfg


def _decision(home: Path, uid: str, status: str = "awaiting_approval") -> str:
    store = RecordStore(f"sqlite:///{home / 'steward.db'}")
    made = DecisionLog(store.engine).record(
        delegate="alice",
        proposal_uid=uid,
        content_hash="c" * 64,
        mode="approval",
        status=status,  # type: ignore[arg-type]
        choice_label="For",
        choice=1,
        confidence=0.9,
        cast_after_ts=None,
        data=DecisionData(),
    )
    store.close()
    assert made is not None
    return made.id


def _audit_kinds(home: Path) -> list[str]:
    store = RecordStore(f"sqlite:///{home / 'steward.db'}")
    kinds = [e.kind for e in AuditLog(store.engine, head_path(home)).entries()]
    store.close()
    return kinds


def test_approve_then_veto_from_the_command_line(steward_home: Path, tmp_path: Path) -> None:
    cfg = str(_config(tmp_path))
    ident = _decision(steward_home, "snapshot:0xa")
    ok = runner.invoke(app, ["--config", cfg, "approve", ident[:8]])
    assert ok.exit_code == 0, ok.output
    assert "approved: alice on snapshot:0xa" in ok.output
    again = runner.invoke(app, ["--config", cfg, "approve", ident[:8]])
    assert again.exit_code == 1 and "this vote is approved" in again.output
    vetoed = runner.invoke(app, ["--config", cfg, "veto", ident])
    assert vetoed.exit_code == 0, vetoed.output
    assert _audit_kinds(steward_home) == ["approved", "vetoed"]


def test_an_unknown_or_ambiguous_decision_is_a_clear_error(
    steward_home: Path, tmp_path: Path
) -> None:
    cfg = str(_config(tmp_path))
    result = runner.invoke(app, ["--config", cfg, "veto", "ffff"])
    assert result.exit_code != 0
    assert "matches 0 decisions" in result.output + (result.stderr or "")


def test_pause_and_resume_from_the_command_line(steward_home: Path, tmp_path: Path) -> None:
    cfg = str(_config(tmp_path))
    paused = runner.invoke(app, ["--config", cfg, "pause", "--note", "incident 42"])
    assert paused.exit_code == 0, paused.output
    assert (steward_home / "PAUSE").read_text().endswith("incident 42")
    status = runner.invoke(app, ["--config", cfg, "status"])
    assert "paused" in status.output
    resumed = runner.invoke(app, ["--config", cfg, "resume"])
    assert resumed.exit_code == 0 and "voting resumed" in resumed.output
    assert not (steward_home / "PAUSE").exists()
    assert _audit_kinds(steward_home) == ["paused", "resumed"]
