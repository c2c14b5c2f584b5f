"""The jobs of `steward run` against a real record store (and a fake webhook)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.analysis.policy import Policy
from agent.analysis.service import AnalysisError
from agent.app import App
from agent.errors import SourceUnavailable
from agent.models import Proposal
from agent.ports import SyncItem, SyncState
from agent.records.assessment import Draft, Facts, HardRuleResult
from agent.runner.jobs import analyse_due, ingest_and_index, policies_in_use
from agent.runner.serve import run_service
from agent.settings import Settings, load_settings
from tests.conftest import ENS_ARCHIVE, PROJECT
from tests.fakes.discord_webhook import TOKEN, FakeWebhook

NOW = datetime.now(UTC).replace(microsecond=0)
TREASURY = str(PROJECT / "config" / "policies" / "conservative-treasury.yaml")
ENS = str(PROJECT / "config" / "policies" / "ens-constitution.md")
DELEGATE = f"""
voting:
  delegates:
    - {{id: alice, address: "0x{"a" * 40}", policy: {ENS}, mode: dry-run, spaces: [ens.eth]}}
    - {{id: bob, address: "0x{"b" * 40}", policy: {TREASURY}, mode: "off", spaces: [other.eth]}}
"""


def _settings(tmp_path: Path, text: str) -> Settings:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(text)
    return load_settings(cfg)


def _proposal(pid: str, space: str, state: str, ended_days_ago: float = -2, **kw: Any) -> Proposal:
    end = NOW - timedelta(days=ended_days_ago)
    return Proposal(
        source="snapshot",
        space=space,
        id=pid,
        title=f"Proposal {pid}",
        body="Fund the grants programme with 10,000 USDC for six months.",
        choices=["For", "Against", "Abstain"],
        state=state,
        start=end - timedelta(days=5),
        end=end,
        created=end - timedelta(days=5),
        **kw,
    )


class StubAnalyst:
    id = "stub"
    prompt_hash = "stub-1"

    def __init__(self, fail_on: str | None = None) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail_on = fail_on

    def draft(
        self, proposal: Proposal, policy: Policy, facts: Facts, hard_rules: list[HardRuleResult]
    ) -> Draft:
        self.calls.append((proposal.id, policy.id))
        if proposal.id == self.fail_on:
            raise AnalysisError("the model kept answering nonsense")
        return Draft(
            summary="Funds grants.",
            category="grants",
            findings=[],
            recommendation="ABSTAIN",
            confidence=0.2,
        )


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    application = App(_settings(tmp_path, f"analysis:\n  policy: {TREASURY}\n{DELEGATE}"))
    application.store.apply_proposals(
        [
            _proposal("open-ens", "ens.eth", "active"),
            _proposal("open-other", "other.eth", "active"),
            _proposal("spam", "other.eth", "active", flagged=True),
            _proposal("just-ended", "other.eth", "closed", ended_days_ago=1),
            _proposal("history", "other.eth", "closed", ended_days_ago=400),
        ]
    )
    yield application
    application.close()


def test_policies_in_use_scopes_delegate_policies_and_skips_off_delegates(app: App) -> None:
    assert policies_in_use(app.settings) == {TREASURY: None, ENS: frozenset({"ens.eth"})}


def test_analyse_covers_open_and_recently_ended_proposals_once(app: App) -> None:
    analyst = StubAnalyst()
    first = analyse_due(app, lambda: analyst, now=NOW)
    assert sorted(analyst.calls) == [
        ("just-ended", "conservative-treasury"),
        ("open-ens", "conservative-treasury"),
        ("open-ens", "ens-constitution"),
        ("open-other", "conservative-treasury"),
    ]
    assert (first.policies, first.new, first.cached, first.errors) == (2, 4, 0, [])

    second = analyse_due(app, lambda: analyst, now=NOW)
    assert len(analyst.calls) == 4  # open ones come from the cache; the ended one is done
    assert (second.new, second.cached) == (0, 3)


def test_one_failing_proposal_does_not_stop_the_rest(app: App) -> None:
    result = analyse_due(app, lambda: StubAnalyst(fail_on="open-other"), now=NOW)
    assert result.failed == 1 and result.new == 3
    assert result.errors == [
        "snapshot:open-other (conservative-treasury): the model kept answering nonsense"
    ]


class DownSource:
    name = "snapshot"

    def scopes(self) -> list[str]:
        return ["ens.eth"]

    def sync(
        self, scope: str, state: SyncState, *, full: bool = False, votes: bool = True
    ) -> Iterator[SyncItem]:
        raise SourceUnavailable("the hub did not answer")
        yield  # pragma: no cover


def test_ingest_goes_on_after_a_failing_source(app: App, tmp_path: Path) -> None:
    archive = tmp_path / "ens.jsonl"
    archive.write_text("\n".join(ENS_ARCHIVE.read_text().splitlines()[:3]) + "\n")
    sources = [DownSource(), app.archive_source(archive)]
    result = ingest_and_index(app, sources, index=False)
    assert result.ingest.new == 3 and result.index is None
    assert result.errors == ["ingest from snapshot stopped: the hub did not answer"]
    assert result.counts()["new"] == 3


def test_webhook_mode_posts_due_alerts_once(
    tmp_path: Path, steward_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="agent")
    with FakeWebhook() as hook:
        settings = _settings(
            tmp_path,
            f"discord:\n  webhook_url: {hook.url}\nrun:\n  analyse: false\n"
            f"analysis:\n  policy: {TREASURY}\n",
        )
        application = App(settings)
        application.store.apply_proposals([_proposal("fresh", "ens.eth", "active")])
        try:
            assert run_service(application, once=True) is True
            alerts = [p for p in hook.posts if "New proposal" in p.get("content", "")]
            assert len(alerts) == 1
            posted = len(hook.posts)
            assert run_service(application, once=True) is True
            assert len(hook.posts) == posted  # the post log remembers
        finally:
            application.close()
    beat = (steward_home / "run.json").read_text()
    assert '"posting": "webhook"' in beat and '"post"' in beat
    assert TOKEN not in caplog.text and TOKEN not in beat
