"""Delegate records from stored votes: the pure record, the app wiring, the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.app import App
from agent.cli.main import app as cli
from agent.errors import NotFound, StewardError
from agent.records.assessment import Assessment, Facts, Provenance
from agent.settings import load_settings
from agent.store import RecordStore
from agent.voters.service import VoterFigures
from tests.conftest import PROJECT
from tests.voters import T0, load_aave, proposal, store_with, vote

ALICE = "0x" + "a1" * 20
BOB = "0x" + "b2" * 20


def _space(tmp_path: Path) -> RecordStore:
    """Five proposals a day apart; Alice votes on 1, 3, 4 (with a reason on 4), Bob on all."""
    ps = [
        proposal(
            f"p{n}",
            created=datetime.fromtimestamp(T0 + n * 86400, UTC),
            end=datetime.fromtimestamp(T0 + n * 86400 + 3600, UTC),
            scores=[10.0, 1.0, 0.0] if n != 3 else [1.0, 10.0, 0.0],
        )
        for n in range(5)
    ]
    votes = [vote(p, BOB, 1, 5.0, T0 + n * 86400 + 60) for n, p in enumerate(ps)]
    votes += [
        vote(ps[1], ALICE.upper().replace("0X", "0x"), 1, 100.0, T0 + 86400 + 100),
        vote(ps[3], ALICE, 1, 120.0, T0 + 3 * 86400 + 100),
        vote(ps[4], ALICE, 2, 90.0, T0 + 4 * 86400 + 100, reason="Too costly for what it buys."),
    ]
    return store_with(tmp_path, ps, votes)


def test_record_counts_participation_choices_and_outcomes(tmp_path: Path) -> None:
    store = _space(tmp_path)
    r = VoterFigures(store).record(ALICE.upper().replace("0X", "0x"))
    assert r.votes_cast == 3
    assert r.choices == {"For": 2, "Against": 1}
    [part] = r.participation
    assert (part.space, part.eligible, part.voted) == ("dao.eth", 4, 3)  # p1..p4 since the first
    assert r.with_outcomes is not None
    assert (r.with_outcomes.compared, r.with_outcomes.agreed) == (3, 1)  # p1 ✓, p3 ✗, p4 ✗
    assert [v.proposal_uid for v in r.votes] == ["snapshot:p4", "snapshot:p3", "snapshot:p1"]
    [quoted] = r.reasons
    assert quoted.reason == "Too costly for what it buys." and quoted.link and "p4" in quoted.link
    assert [pt.power for pt in r.power] == [100.0, 120.0, 90.0]
    assert r.with_steward is None and r.delegate_id is None


def test_unknown_address_and_bad_input_are_clear(tmp_path: Path) -> None:
    figures = VoterFigures(_space(tmp_path))
    with pytest.raises(NotFound, match="No stored votes from 0x0000"):
        figures.record("0x" + "00" * 20)
    with pytest.raises(NotFound, match=r"in other\.eth"):
        figures.record(ALICE, "other.eth")
    with pytest.raises(StewardError, match="Give an address"):
        figures.record("   ")


def test_kappa_on_real_votes_says_what_raw_agreement_hides(tmp_path: Path) -> None:
    store = store_with(tmp_path, [], [])
    rows = load_aave(store)
    busiest = max({r["voter"] for r in rows}, key=lambda a: sum(r["voter"] == a for r in rows))
    r = VoterFigures(store).record(busiest, "aave")
    assert r.votes_cast == sum(r_["voter"] == busiest for r_ in rows)
    assert r.with_outcomes is not None and r.with_outcomes.compared >= 1
    # the fixture's canceled proposal (32) has no winner: never compared
    assert all(v.outcome is None for v in r.votes if v.proposal_uid.endswith(":32"))


def test_configured_delegate_is_compared_with_steward(tmp_path: Path) -> None:
    store = _space(tmp_path)
    for uid, rec, choice in (("snapshot:p1", "FOR", "For"), ("snapshot:p4", "FOR", "For")):
        store.save_assessment(
            Assessment(
                proposal_uid=uid,
                policy_id="conservative-treasury",
                summary="s",
                facts=Facts(),
                category="treasury",
                findings=[],
                hard_rules=[],
                recommendation=rec,
                choice=choice,
                confidence=0.5,
                provenance=Provenance(
                    analyst="offline",
                    prompt_hash="p",
                    policy_hash="h",
                    content_hash="c",
                    created=datetime.now(UTC),
                ),
            )
        )
    store.close()
    cfg = tmp_path / "steward.yaml"
    cfg.write_text(
        json.dumps(
            {
                "database": {"url": f"sqlite:///{tmp_path / 'voters.db'}"},
                "voting": {
                    "delegates": [
                        {
                            "id": "alice",
                            "address": ALICE,
                            "policy": str(PROJECT / "config/policies/conservative-treasury.yaml"),
                        }
                    ]
                },
                "voters": {"names": {ALICE: "alice.eth"}},
            }
        )
    )
    application = App(load_settings(cfg))
    try:
        r = application.voter_figures().record(ALICE)
    finally:
        application.close()
    assert r.delegate_id == "alice" and r.name == "alice.eth"
    assert r.with_steward is not None
    assert (r.with_steward.compared, r.with_steward.agreed) == (2, 1)  # p1 agreed, p4 not
    by_uid = {v.proposal_uid: v for v in r.votes}
    assert by_uid["snapshot:p4"].with_steward is False and by_uid["snapshot:p3"].steward is None


def test_cli_delegate_and_show(tmp_path: Path, steward_home: Path) -> None:
    steward_home.mkdir(parents=True)
    open_p = proposal("live", state="active", end=datetime(2100, 1, 1, tzinfo=UTC))
    votes = [vote(open_p, ALICE, 1, 900.0), vote(open_p, BOB, 2, 50.0)]
    votes += [vote(open_p, f"0x{i:040x}", 2, 1.0) for i in range(5)]
    store_with(steward_home, [open_p], votes).close()
    (steward_home / "voters.db").rename(steward_home / "steward.db")
    runner = CliRunner()
    text = runner.invoke(cli, ["delegate", ALICE]).output
    assert "1 vote(s)" in text and "Delegate record" in text
    data = json.loads(runner.invoke(cli, ["delegate", ALICE, "--json"]).output)
    assert data["votes_cast"] == 1 and data["choices"] == {"For": 1}
    missing = runner.invoke(cli, ["delegate", BOB + "ff"])
    assert missing.exit_code == 1 and "No stored votes" in missing.output
    shown = runner.invoke(cli, ["show", "live"]).output
    assert "Who decides" in shown and "Few voters decide: 1 voter holds a majority" in shown
    as_json = json.loads(runner.invoke(cli, ["show", "live", "--json"]).output)
    assert as_json["concentration"]["nakamoto"] == 1 and as_json["concentration"]["voters"] == 7
