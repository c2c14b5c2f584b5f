"""The digest on a real SQLite record store: selection, outcomes, rendering, Discord cuts."""

from __future__ import annotations

import json
import random
import re
import shutil
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from agent.digest import (
    Digest,
    build_digest,
    parse_since,
    render,
    split_for_discord,
    to_html,
    to_json,
    to_markdown,
)
from agent.digest.discord import width
from agent.models import Proposal, Space
from agent.records.assessment import Assessment, Facts, HardRuleResult, InjectionFinding, Provenance
from agent.store import RecordStore

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
HOSTILE = "<script>alert(1)</script> @everyone [click](javascript:alert(1))"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The store's wall clock (for `first_seen`), set by the test."""
    at = [NOW - timedelta(hours=1)]
    monkeypatch.setattr("agent.store.records._now", lambda: int(at[0].timestamp()))
    return at


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("digest") / "template.db"
    RecordStore(f"sqlite:///{path}").close()
    return path


@pytest.fixture
def store(tmp_path: Path, clock: list[datetime], migrated: Path) -> RecordStore:
    """A fresh SQLite store, copied from one migrated file: migrating each time is slow."""
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{migrated}{suffix}").exists():
            shutil.copy(f"{migrated}{suffix}", tmp_path / f"s.db{suffix}")
    return RecordStore(f"sqlite:///{tmp_path / 's.db'}")


def _p(pid: str, **kw: Any) -> Proposal:
    base: dict[str, Any] = dict(
        source="snapshot",
        space="ens.eth",
        id=pid,
        title=f"Proposal {pid}",
        body="Body.",
        state="active",
        created=NOW - 10 * DAY,
        end=NOW + 10 * DAY,
        choices=["For", "Against", "Abstain"],
        link=f"https://snapshot.org/#/ens.eth/proposal/{pid}",
    )
    return Proposal(**{**base, **kw})


def _a(uid: str, recommendation: str = "FOR", choice: str | None = "For", **kw: Any) -> Assessment:
    base: dict[str, Any] = dict(
        proposal_uid=uid,
        policy_id="ens",
        summary=f"Summary of {uid}.",
        facts=Facts(),
        category="treasury",
        findings=[],
        hard_rules=[],
        recommendation=recommendation,
        choice=choice,
        confidence=0.8,
        provenance=Provenance(
            analyst="offline", prompt_hash="p", policy_hash="h", content_hash="c", created=NOW
        ),
    )
    return Assessment(**{**base, **kw})


def _digest(store: RecordStore, **kw: Any) -> Digest:
    return build_digest(store, **{"now": NOW, "since": DAY, "policy_id": "ens", **kw})


def _uids(items: list[Any]) -> list[str]:
    return [i.uid.split(":", 1)[1] for i in items]


# ---- selection -------------------------------------------------------------------
def test_sections_select_by_time_state_and_first_seen(
    store: RecordStore, clock: list[datetime]
) -> None:
    clock[0] = NOW - 5 * DAY
    store.apply_proposals(
        [
            _p("seen-long-ago"),
            _p("closes-5h", end=NOW + timedelta(hours=5)),
            _p("closes-30h", end=NOW + timedelta(hours=30)),
            _p("pending-20h", state="pending", end=NOW + timedelta(hours=20)),
            _p("closes-3d", end=NOW + 3 * DAY),
        ]
    )
    clock[0] = NOW - timedelta(hours=2)
    archived = Proposal(source="archive", space="ens.eth", id="ep1", title="EP1", state="closed")
    store.apply_proposals(
        [
            _p("seen-long-ago"),
            _p("fresh", created=NOW - timedelta(hours=2)),
            _p("late-ingest-open"),
            _p("late-ingest-closed", state="closed", end=NOW - 5 * DAY),
            _p("closed-early", state="closed", end=NOW + timedelta(hours=5)),
            _p("ended-3h", state="closed", end=NOW - timedelta(hours=3)),
            _p("ended-1h", state="closed", end=NOW - timedelta(hours=1)),
            _p("ended-3d", state="closed", end=NOW - 3 * DAY),
            archived.model_copy(update={"outcome": "Passed"}),
            _p("spam", created=NOW - timedelta(hours=1), flagged=True),
        ]
    )
    d = _digest(store)
    assert _uids(d.new) == ["fresh", "late-ingest-open"]
    assert _uids(d.closing) == ["closes-5h", "pending-20h", "closes-30h"]
    assert _uids(d.ended) == ["ended-1h", "ended-3h"]
    assert d.flagged_hidden == 1
    assert d.closing[0].time_left == timedelta(hours=5)
    assert d.ended[0].time_left is None
    assert "spam" in _uids(_digest(store, include_flagged=True).new)


def test_spaces_filter_and_flagged_spaces(store: RecordStore) -> None:
    fresh = NOW - timedelta(hours=1)
    store.apply_proposals(
        [
            _p("a", created=fresh),
            _p("b", space="uni.eth", created=fresh),
            _p("c", space="spam.eth", created=fresh),
        ]
    )
    store.upsert_space(Space(source="snapshot", id="spam.eth", flagged=True))
    assert _uids(_digest(store, spaces=["uni.eth"]).new) == ["b"]
    everything = _digest(store)
    assert sorted(_uids(everything.new)) == ["a", "b"]
    assert everything.flagged_hidden == 1
    assert everything.spaces is None


def test_tally_percentages(store: RecordStore) -> None:
    soon = NOW + timedelta(hours=3)
    store.apply_proposals(
        [
            _p("total", end=soon, scores=[600.0, 300.0, 100.0], scores_total=1000.0),
            _p("summed", end=soon, choices=["Yes", "No"], scores=[1.0, 2.0]),
            _p("short", end=soon, scores=[5.0]),
            _p("none", end=soon),
        ]
    )
    tallies = {i.uid.split(":")[1]: i.tally for i in _digest(store).closing}
    assert [(t.choice, t.percent, t.leading) for t in tallies["total"]] == [
        ("For", 60.0, True),
        ("Against", 30.0, False),
        ("Abstain", 10.0, False),
    ]
    assert [t.percent for t in tallies["summed"]] == [33.3, 66.7]
    assert [t.score for t in tallies["short"]] == [5.0, 0.0, 0.0]
    assert [t.percent for t in tallies["short"]] == [100.0, 0.0, 0.0]
    assert [t.percent for t in tallies["none"]] == [0.0, 0.0, 0.0]
    assert not any(t.leading for t in tallies["none"])


# ---- outcome against recommendation ------------------------------------------------
ENDED = NOW - timedelta(hours=2)


@pytest.mark.parametrize(
    ("proposal", "assessment", "outcome", "agrees"),
    [
        (_p("x", state="closed", end=ENDED, scores=[9, 1, 0]), _a("snapshot:x"), "For", True),
        (
            _p("x", state="closed", end=ENDED, scores=[9, 1, 0]),
            _a("snapshot:x", "AGAINST", "Against"),
            "For",
            False,
        ),
        (
            _p("x", state="closed", end=ENDED, scores=[9, 1, 0]),
            _a("snapshot:x", "ABSTAIN", "Abstain"),
            "For",
            None,
        ),
        (
            _p("x", state="closed", end=ENDED, outcome="Rejected", choices=[]),
            _a("snapshot:x", "AGAINST", None),
            "Rejected",
            True,
        ),
        (
            _p("x", state="closed", end=ENDED, scores=[9, 1, 0], scores_total=10, quorum=100),
            _a("snapshot:x"),
            "quorum not reached",
            False,
        ),
        (_p("x", state="defeated", end=ENDED), _a("snapshot:x"), "defeated", False),
        (
            _p("x", state="closed", end=ENDED, choices=["Alice", "Bob"], scores=[1, 5]),
            _a("snapshot:x", "FOR", "Bob"),
            "Bob",
            True,
        ),
        (_p("x", state="closed", end=ENDED, scores=[3, 3, 0]), _a("snapshot:x"), "tie", None),
        (_p("x", state="closed", end=ENDED, scores=[9, 1, 0]), None, "For", None),
    ],
)
def test_outcome_against_recommendation(
    store: RecordStore,
    proposal: Proposal,
    assessment: Assessment | None,
    outcome: str,
    agrees: bool | None,
) -> None:
    store.apply_proposals([proposal])
    if assessment:
        store.save_assessment(assessment)
    [item] = _digest(store).ended
    assert (item.outcome, item.agrees, item.analysed) == (outcome, agrees, assessment is not None)


def test_assessment_fields_and_policy(store: RecordStore) -> None:
    store.apply_proposals([_p("x", end=NOW + timedelta(hours=5)), _p("y", end=NOW + DAY)])
    failed = HardRuleResult(rule="max_spend", outcome="fail", detail="asks 5M", on_fail="AGAINST")
    store.save_assessment(
        _a(
            "snapshot:x",
            "AGAINST",
            "Against",
            hard_rules=[failed],
            risk_flags=["asks for 5M USDC", "hard rule max_spend: asks 5M"],
            injection=[
                InjectionFinding(kind="hidden_unicode", excerpt="a"),
                InjectionFinding(kind="hidden_unicode", excerpt="b"),
            ],
            escalate=True,
            escalation_reasons=["hidden instructions"],
        )
    )
    store.save_assessment(_a("snapshot:y", policy_id="other"))
    x, y = _digest(store).closing
    assert (x.recommendation, x.choice, x.confidence, x.escalate) == (
        "AGAINST",
        "Against",
        0.8,
        True,
    )
    assert x.hard_rule_failures == ["hard rule max_spend: asks 5M"]
    assert x.flags == [
        "asks for 5M USDC",
        "possible prompt injection: hidden unicode characters (2 found)",
    ]
    assert not y.analysed and y.summary is None
    assert "not analysed yet" in to_markdown(_digest(store))
    assert _digest(store, policy_id="other").closing[1].analysed


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        build_digest(None, now=datetime(2026, 1, 1), since=DAY)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown digest format"):
        render(Digest(generated=NOW, since=NOW - DAY, closing_window=DAY), "xml")  # type: ignore[arg-type]


# ---- rendering -------------------------------------------------------------------
def test_empty_digest_renders_in_every_format(store: RecordStore) -> None:
    d = _digest(store)
    assert d.empty
    md = render(d, "md")
    assert "Nothing new, closing or ended in the last 24 h." in md and "###" not in md
    page = render(d, "html")
    assert "Nothing new, closing or ended in the last 24 h." in page
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    data = json.loads(render(d, "json"))
    assert data["new"] == data["closing"] == data["ended"] == []
    assert data["policy_id"] == "ens"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.tags: set[str] = set()
        self.attrs: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attrs.update(name for name, _ in attrs)
        self.hrefs += [v or "" for k, v in attrs if k == "href"]


def _hostile_store(store: RecordStore) -> Digest:
    store.apply_proposals(
        [
            _p(
                "evil",
                title=HOSTILE + " <@123> <@&456> <#789> @here",
                end=NOW + timedelta(hours=5),
                choices=["Yes <b>", "No @everyone"],
                scores=[2, 1],
                link="javascript:alert(1)",
                discussion="data:text/html,<script>alert(1)</script>",
            ),
            _p("good", end=NOW + DAY, discussion="https://discuss.ens.domains/t/1"),
        ]
    )
    store.save_assessment(_a("snapshot:evil", summary=HOSTILE, risk_flags=["[x](https://e.vil)"]))
    return _digest(store)


def test_hostile_text_is_escaped_in_html(store: RecordStore) -> None:
    page = to_html(_hostile_store(store))
    parser = _Links()
    parser.feed(page)
    assert "script" not in parser.tags and "b" not in parser.tags
    assert not {a for a in parser.attrs if a.startswith("on")}
    assert all(h.startswith(("https://", "#")) for h in parser.hrefs), parser.hrefs
    assert "https://discuss.ens.domains/t/1" in parser.hrefs
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "javascript:alert(1)" in page  # shown, as text


def test_hostile_text_is_neutralised_in_markdown(store: RecordStore) -> None:
    md = to_markdown(_hostile_store(store))
    assert not re.search(r"@(everyone|here)", md)
    assert "@\u200beveryone" in md and "@\u200bhere" in md
    assert not re.search(r"<[@#]", md)
    assert not re.search(r"(?<!\\)\]\(", md), "a proposal-supplied [text](url) survived"
    assert "<script>" not in md
    assert set(re.findall(r"<(https?://[^>]+)>", md)) == {
        "https://snapshot.org/#/ens.eth/proposal/good",
        "https://discuss.ens.domains/t/1",
    }
    assert "https\\://e.vil" in md  # no auto-link either


def test_html_page_is_self_contained_and_complete(store: RecordStore) -> None:
    store.apply_proposals(
        [
            _p("soon", end=NOW + timedelta(hours=5), scores=[623, 353, 24], votes_count=214),
            _p("done", state="closed", end=NOW - timedelta(hours=3), scores=[1, 9, 0]),
        ]
    )
    store.save_assessment(_a("snapshot:soon", escalate=True, risk_flags=["no discussion link"]))
    store.save_assessment(_a("snapshot:done"))
    page = to_html(_digest(store))
    assert 'name="viewport"' in page and "max-width:42rem" in page
    assert not re.search(r"<script|<link|src=|@import|url\(", page)
    assert re.search(r'<h2>Closing soon <span class="count">1</span>', page)
    assert 'class="badge rec-for"' in page and "82% confident" not in page
    assert "80% confident" in page and "needs a human" in page
    assert 'style="width: 62.3%"' in page and "in 5 h" in page
    assert "against the recommendation" in page and "Outcome by votes" in page


# ---- Discord -------------------------------------------------------------------
def test_split_keeps_short_text_whole() -> None:
    assert split_for_discord("hello\n\nworld") == ["hello\n\nworld"]
    assert split_for_discord("\n\n  \n") == []
    with pytest.raises(ValueError, match="at least"):
        split_for_discord("x", limit=10)


def _random_markdown(rng: random.Random) -> str:
    words = ["gov", "ENS", "treasury", "🗳️", "délégué", "x" * 90, "**bold**", "<@1>"]
    blocks = []
    for _ in range(rng.randint(0, 25)):
        kind = rng.random()
        if kind < 0.15:
            blocks.append(f"### Section {rng.randint(1, 9)}")
        elif kind < 0.3:
            lines = [" ".join(rng.choices(words, k=rng.randint(0, 12))) for _ in range(30)]
            lines[rng.randrange(30)] = ""
            blocks.append("\n".join(["```py", *lines[: rng.randint(1, 30)], "```"]))
        elif kind < 0.4:
            blocks.append("".join(rng.choices("abc ✓🙂", k=rng.randint(100, 900))))
        else:
            lines = [" ".join(rng.choices(words, k=rng.randint(1, 15))) for _ in range(4)]
            blocks.append("\n".join(lines[: rng.randint(1, 4)]))
    return ("\n\n" if rng.random() < 0.8 else "\n\n\n").join(blocks)


def _fences(piece: str) -> int:
    return sum(1 for line in piece.split("\n") if line.startswith("```"))


def test_split_property_many_random_inputs() -> None:
    rng = random.Random(20260310)
    for _ in range(300):
        text, limit = _random_markdown(rng), rng.randint(64, 700)
        pieces = split_for_discord(text, limit)
        assert all(0 < width(p) <= limit and p.strip() for p in pieces)
        assert all(_fences(p) % 2 == 0 for p in pieces), "a message leaves a fence open"
        original, joined = "".join(text.split()), "".join("".join(pieces).split())
        extra = iter(joined)
        assert all(ch in extra for ch in original), "content lost or reordered"
        added = len(joined) - len(original)
        assert added == 4 * (sum(map(_fences, pieces)) - _fences(text))  # "```" + "```py"


def test_split_reopens_a_cut_code_fence() -> None:
    code = "\n".join(f"line {i:03d} " + "=" * 20 for i in range(60))
    text = f"Intro\n\n```py\n{code}\n```\n\nOutro"
    pieces = split_for_discord(text, 300)
    assert len(pieces) > 5
    for piece in pieces[1:-1]:
        assert piece.startswith("```py\n") and piece.endswith("\n```")
    lines = [ln for p in pieces for ln in p.split("\n") if ln.startswith("line ")]
    assert lines == code.split("\n")


def test_split_cuts_between_items_of_a_real_digest(store: RecordStore) -> None:
    store.apply_proposals(
        [_p(f"p{i:02d}", end=NOW + timedelta(hours=i + 1), body="b" * i) for i in range(30)]
    )
    for i in range(0, 30, 2):
        store.save_assessment(_a(f"snapshot:p{i:02d}", summary="A long summary. " * 40))
    md = to_markdown(_digest(store))
    pieces = split_for_discord(md)
    assert len(pieces) > 3 and all(width(p) <= 2000 for p in pieces)
    assert all(p.startswith(("**", "### ")) for p in pieces[1:])


def test_split_hard_cuts_an_overlong_line() -> None:
    line = "word " * 1000
    pieces = split_for_discord(line, 500)
    assert all(width(p) <= 500 for p in pieces)
    assert "".join(pieces).split() == line.split()


# ---- parse_since -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h", timedelta(hours=24)),
        ("2d", timedelta(days=2)),
        ("90m", timedelta(minutes=90)),
        ("1w", timedelta(weeks=1)),
        (" 1D12h ", timedelta(hours=36)),
    ],
)
def test_parse_since(text: str, expected: timedelta) -> None:
    assert parse_since(text) == expected


@pytest.mark.parametrize("text", ["", "24", "h", "3x", "-1h", "1.5h", "2 days"])
def test_parse_since_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"e\.g\. 90m, 24h, 2d, 1w"):
        parse_since(text)


def test_parse_since_rejects_zero_and_huge() -> None:
    with pytest.raises(ValueError, match="longer than zero"):
        parse_since("0h")
    with pytest.raises(ValueError, match="too long"):
        parse_since("999999999999w")


def test_json_round_trips(store: RecordStore) -> None:
    store.apply_proposals([_p("x", end=NOW + timedelta(hours=5), scores=[1, 0, 0])])
    d = _digest(store)
    assert Digest.model_validate_json(to_json(d)) == d


def test_the_digest_shows_what_a_proposal_executes(store: RecordStore) -> None:
    from agent.decode import actions_extra, decode_actions
    from tests.decode.calldata import ALICE, oz

    usdc = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
    decoded = decode_actions([oz(usdc, "transfer(address,uint256)", ALICE, 250_000 * 10**6)])
    extra = json.loads(json.dumps(actions_extra(decoded)))
    store.apply_proposals(
        [_p("pay", source="chain", created=NOW - timedelta(hours=2), extra=extra)]
    )
    (item,) = _digest(store).new
    assert item.actions == [
        f"Transfer 250,000 USDC from the DAO to {ALICE[:6]}…{ALICE[-4:]} [treasury_outflow]"
    ]
    assert "⛓️ Transfer 250,000 USDC" in render(_digest(store), "md")
    assert "Transfer 250,000 USDC" in render(_digest(store), "html")
