"""The backtest gate on real backtests: auto voting needs a recent passing one of the very
analyst, prompt and policy that vote, against the delegate's (or a named) address."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from agent.app import App
from agent.cli.main import app
from agent.settings import load_settings
from agent.voting.backtest_gate import evaluate
from tests.backtest.conftest import VOTER
from tests.conftest import PROJECT

POLICY = str(PROJECT / "config" / "policies" / "ens-constitution.md")
OTHER_POLICY = str(PROJECT / "config" / "policies" / "conservative-treasury.yaml")


def _configure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **delegate: object) -> None:
    config = {
        "analysis": {"policy": POLICY},
        "voting": {
            "delegates": [
                {
                    "id": "d",
                    "address": "0x" + "22" * 20,
                    "backtest_voter": VOTER,
                    "policy": POLICY,
                    "mode": "auto",
                    "signer": {"key_env": "K"},
                    "spaces": ["aave"],
                    **delegate,
                }
            ]
        },
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    monkeypatch.setenv("STEWARD_CONFIG", str(path))


def test_gate_follows_the_backtest(
    gov_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _configure(tmp_path, monkeypatch, min_backtest_n=5, min_backtest_kappa=-1.0)
    application = App(load_settings())
    try:
        delegate = application.settings.voting.delegates[0]
        before = application.track_record(delegate)
        assert not before.found and not before.passed and VOTER in before.detail
        analyst, policy = application._voting_analyst(), application.policy(POLICY)
        assert analyst.id == "precedent"  # the default without a model
        assert application.confidence_cap(analyst, policy) == 0.5  # the offline cap holds
        result = CliRunner().invoke(app, ["backtest", "--voter", VOTER, "--limit", "6"])
        assert result.exit_code == 0, result.output
        track = application.track_record(delegate)
        assert track.found and track.n == 6 and track.voter == VOTER
        assert track.kappa is not None and track.passed, track  # fixed data: κ is defined
        # A passing track record, and only that, lifts the offline cap for this policy.
        assert application.confidence_cap(analyst, policy) == 1.0
        assert application.confidence_cap(analyst, application.policy(OTHER_POLICY)) == 0.5
        # Stricter thresholds than the record meets: refused, and the reason says why.
        strict = delegate.model_copy(update={"min_backtest_n": 50})
        refused = application.track_record(strict)
        assert not refused.passed and "n 6 < 50" in refused.detail
        # A backtest of another policy is not a track record of this one.
        other = delegate.model_copy(update={"policy": OTHER_POLICY})
        assert not application.track_record(other).found
        # Too old: the same record, read 40 days later.
        record = application.store.latest_backtest(
            analyst=track_analyst(application),
            prompt_hash=application._voting_analyst().prompt_hash,
            policy_hash=application.policy(POLICY).hash,
            voter=VOTER,
        )
        assert record is not None
        aged = evaluate(delegate, record, now=record.created + timedelta(days=40))
        assert not aged.passed and "40 d old > 30 d" in aged.detail
        # Shown where a person looks: `steward status` and `steward vote`.
        status = CliRunner().invoke(app, ["status"])
        assert status.exit_code == 0 and "track record vs" in " ".join(status.output.split())
    finally:
        application.close()


def track_analyst(application: App) -> str:
    return application._voting_analyst().id
