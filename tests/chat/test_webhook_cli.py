"""`steward webhook`: posts what is due once, however often it runs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli.main import app
from agent.models import Proposal
from agent.store import RecordStore
from tests.fakes.discord_webhook import TOKEN, FakeWebhook

runner = CliRunner()


@pytest.fixture
def hook() -> FakeWebhook:
    with FakeWebhook() as server:
        yield server


def test_webhook_posts_once_and_never_pings(
    hook: FakeWebhook, steward_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = RecordStore(f"sqlite:///{steward_home / 'steward.db'}")
    now = datetime.now(UTC)
    store.apply_proposals(
        [
            Proposal(
                source="snapshot",
                space="ens.eth",
                id="0x1",
                title="@everyone fund us",
                body="Grant.",
                state="active",
                created=now - timedelta(hours=1),
                start=now - timedelta(hours=1),
                end=now + timedelta(hours=5),
                choices=["For", "Against"],
            )
        ]
    )
    monkeypatch.setenv("STEWARD__DISCORD__WEBHOOK_URL", hook.url)
    monkeypatch.setenv("STEWARD__DISCORD__DIGEST_TIME", "00:00")
    first = runner.invoke(app, ["webhook", "--json"])
    assert first.exit_code == 0, first.stdout + first.stderr
    posted = json.loads(first.stdout)["posted"]
    assert any(key.startswith("digest:webhook:") for key in posted)
    assert any(key.startswith("alert:webhook:") for key in posted)
    assert all(body["allowed_mentions"] == {"parse": []} for body in hook.posts)
    assert TOKEN not in first.stdout + first.stderr
    count = len(hook.posts)
    second = runner.invoke(app, ["webhook", "--json"])
    assert json.loads(second.stdout)["posted"] == [] and len(hook.posts) == count


def test_webhook_needs_a_url() -> None:
    result = runner.invoke(app, ["webhook"])
    assert result.exit_code == 2 and "webhook_url" in result.stderr
