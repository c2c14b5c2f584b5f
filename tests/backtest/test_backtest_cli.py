"""`steward backtest` on real Aave votes: figures, baselines, no peeking, caching, HTML."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.analysis.tools import AnalysisTools, AsOf
from agent.app import App
from agent.cli.main import app
from agent.settings import load_settings
from tests.backtest.conftest import GOV_PROPOSALS, VOTER

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())


def _backtest(*extra: str) -> dict:  # type: ignore[type-arg]
    code, out = _run("backtest", "--voter", VOTER, "--json", *extra)
    assert code == 0, out
    return json.loads(out)


def test_backtest_reports_figures_baselines_and_disagreements(gov_home: Path) -> None:
    report = _backtest("--analyst", "precedent")
    n = report["n"]
    assert n >= 10 and report["identity"]["analyst"] == "precedent"
    created = [c["created"] for c in report["cases"]]
    assert created == sorted(created)
    actual = [c["actual"] for c in report["cases"]]
    assert "AGAINST" in actual
    for name in ("steward", "always_for", "outcome"):
        m = report[name]
        assert m["n"] == n and set(m["confusion"]) == {"FOR", "AGAINST", "ABSTAIN"}
        assert sum(sum(row.values()) for row in m["confusion"].values()) == n
    assert report["always_for"]["coverage"] == 1.0
    assert report["always_for"]["agreement"] == pytest.approx(actual.count("FOR") / n)
    s = report["steward"]
    covered = [c for c in report["cases"] if c["recommendation"] != "NONE"]
    assert s["coverage"] == pytest.approx(len(covered) / n)
    assert len(s["reliability"]) == 5 and (s["brier"] is None) == (not covered)
    # NONE is its own state and never comes with a FOR; FOR always cites a FOR precedent.
    for c in report["cases"]:
        if c["recommendation"] == "FOR":
            assert any(p["position"] == "FOR" for p in c["precedents"]), c
    # The first proposal has no past at all: nothing to cite, so no FOR.
    assert report["cases"][0]["precedents"] == []
    assert report["cases"][0]["recommendation"] != "FOR"
    code, text = _run("backtest", "--voter", VOTER.lower(), "--analyst", "precedent")
    assert code == 0 and "always FOR" in text and "DAO outcome" in text and "Disagreements" in text


def test_precedents_come_only_from_the_past_and_later_data_changes_nothing(
    gov_home: Path, tmp_path: Path
) -> None:
    before = _backtest("--analyst", "precedent")
    for c in before["cases"]:
        for p in c["precedents"]:
            assert p["at"] < c["created"], (c["uid"], p)
    # A future twin of a proposal the voter voted on, voted AGAINST by the voter: the most
    # similar precedent there could be, and it must not reach any earlier assessment.
    case = before["cases"][len(before["cases"]) // 2]
    number = int(case["uid"].rsplit(":", 1)[1])
    record = next(
        json.loads(line)
        for line in GOV_PROPOSALS.read_text().splitlines()
        if json.loads(line)["proposal_id"] == number
    )
    twin = record | {
        "proposal_id": 9999,
        "created_timestamp": "2030-01-01T00:00:00",
        "lifecycle_events": {},
        "final_state_derived": "no_queue_execute_cancel_event",
    }
    vote = {
        "dao": "Aave",
        "governor_address": record["governor_address"],
        "proposal_id": 9999,
        "voter": VOTER,
        "support": "against",
        "votes_raw": "1",
        "timestamp": "2030-01-02T00:00:00",
        "txhash": "0x" + "ab" * 32,
    }
    (tmp_path / "twin.jsonl").write_text(json.dumps(twin) + "\n")
    (tmp_path / "twin-vote.jsonl").write_text(json.dumps(vote) + "\n")
    code, out = _run(
        "ingest", "--from-file", str(tmp_path / "twin.jsonl"),
        "--from-file", str(tmp_path / "twin-vote.jsonl"),
    )  # fmt: skip
    assert code == 0, out
    after = _backtest("--analyst", "precedent", "--refresh", "--since", "2020-01-01")
    twin_case = after["cases"].pop()
    assert twin_case["uid"].endswith(":9999")
    assert twin_case["precedents"][0]["uid"] == case["uid"]  # the twin does find its original
    assert twin_case["precedents"][0]["similarity"] > 0.85
    strip = [
        (c["uid"], c["recommendation"], c["confidence"], c["precedents"]) for c in after["cases"]
    ]
    assert strip == [
        (c["uid"], c["recommendation"], c["confidence"], c["precedents"]) for c in before["cases"]
    ]


def test_tools_see_only_the_past(gov_home: Path) -> None:
    application = App(load_settings())
    try:
        store = application.store
        first, later = store.proposals(space="aave")[0], store.proposals(space="aave")[-1]
        clock = AsOf(first.created)
        tools = AnalysisTools(store, as_of=clock)
        assert "no proposal" in tools.get_proposal(later.uid)
        assert "had not ended" in tools.get_vote_tally(first.uid)
        clock.moment = datetime(2030, 1, 1, tzinfo=UTC)
        assert '"tally"' in tools.get_vote_tally(first.uid)
        assert later.title[:20] in tools.get_proposal(later.uid)
    finally:
        application.close()


def test_backtest_never_overwrites_the_live_assessment(gov_home: Path) -> None:
    application = App(load_settings())
    try:
        voted = {v.proposal_uid for v in application.store.votes_by(VOTER)}
        uid = [p.uid for p in application.store.proposals(space="aave") if p.uid in voted][-1]
    finally:
        application.close()
    code, out = _run("analyze", uid, "--json")
    assert code == 0, out
    policy_id = application.policy().id
    live = App(load_settings())
    try:
        first = live.store.latest_assessment(uid, policy_id)
        assert first is not None
        _backtest("--analyst", "precedent", "--limit", "3")
        again = _backtest("--analyst", "precedent", "--limit", "3")  # from the backtest cache
        assert again["cases"][-1]["uid"] == uid
        assert live.store.latest_assessment(uid, policy_id) == first
    finally:
        live.close()


def test_repeat_reports_flip_rate(gov_home: Path) -> None:
    report = _backtest("--analyst", "heuristic", "--repeat", "2", "--limit", "4")
    assert report["repeat"] == 2 and report["n"] == 4
    assert report["flip_rate"] == 0.0  # the heuristic is deterministic
    assert all(len(c["runs"]) == 2 for c in report["cases"])


def test_bad_input_says_what_is_missing(gov_home: Path) -> None:
    code, out = _run("backtest", "--voter", "0x" + "00" * 20)
    assert code != 0 and "no stored votes by 0x0000" in out
    code, out = _run("backtest", "--voter", VOTER, "--space", "nowhere")
    assert code != 0 and "in space 'nowhere'" in out
    code, out = _run("backtest", "--voter", VOTER, "--since", "2040-01-01")
    assert code != 0 and "fit the filters" in out
    code, out = _run("backtest", "--voter", VOTER, "--format", "html")
    assert code != 0 and "--out" in out


def _chromium() -> str | None:
    return next(
        (p for n in ("chromium", "chromium-browser", "google-chrome") if (p := shutil.which(n))),
        None,
    )


def test_html_report_is_one_page_with_charts(gov_home: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    code, text = _run(
        "backtest", "--voter", VOTER, "--analyst", "precedent", "--limit", "8",
        "--format", "html", "--out", str(out),
    )  # fmt: skip
    assert code == 0, text
    html = out.read_text()
    assert 'id="reliability"' in html and 'id="confusion"' in html
    assert "<script" not in html and "http-equiv" not in html
    assert 'src="http' not in html and "stylesheet" not in html
    browser = _chromium()
    if browser is None:
        pytest.skip("no chromium on this machine: the page was checked as text only")
    dom = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", out.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert dom.count('class="cell"') == 12  # 3 votes by 4 recommendations, drawn
    assert 'id="reliability"' in dom and "Disagreements" in dom
