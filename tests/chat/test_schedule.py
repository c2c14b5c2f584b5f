"""The scheduler on a fake clock and a real SQLite store; delivery through the post log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.chat.deliver import DeliveryError, deliver, retry_unsent
from agent.chat.models import Message, PlannedPost
from agent.chat.schedule import digest_due, plan_posts
from agent.models import Proposal, Space, Vote
from agent.settings import DiscordSettings
from agent.store import RecordStore

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # 13:00 in Berlin
DELEGATE = "0xDe1e6a7E00000000000000000000000000000001"


class Recorder:
    """A Sender that records what it sends and fails for the targets or keys it is told."""

    def __init__(self, fail: set[str] | None = None, crash: bool = False) -> None:
        self.sent: list[tuple[str, Message]] = []
        self.fail = fail or set()
        self.crash = crash

    def send(self, target: str, message: Message) -> None:
        if self.crash:
            raise OSError("https://discord.com/api/webhooks/1/token leaked?")
        if target in self.fail:
            raise DeliveryError(f"channel {target} is down", retry_after=2.5)
        self.sent.append((target, message))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The store's wall clock, which stamps `first_seen`."""
    at = [NOW - timedelta(hours=1)]
    monkeypatch.setattr("agent.store.records._now", lambda: int(at[0].timestamp()))
    return at


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'steward.db'}"


@pytest.fixture
def store(db: str, clock: list[datetime]) -> RecordStore:
    return RecordStore(db)


def _settings(**kw: Any) -> DiscordSettings:
    base: dict[str, Any] = dict(
        digest_channels=[111], digest_time="09:00", timezone="Europe/Berlin", digest_since="24h"
    )
    return DiscordSettings(**{**base, **kw})


def _p(pid: str, **kw: Any) -> Proposal:
    base: dict[str, Any] = dict(
        source="snapshot",
        space="ens.eth",
        id=pid,
        title=f"Proposal {pid}",
        body="Body.",
        state="active",
        created=NOW - timedelta(days=1),
        end=NOW + timedelta(days=5),
        choices=["For", "Against"],
    )
    return Proposal(**{**base, **kw})


def _plan(store: RecordStore, now: datetime = NOW, **kw: Any) -> list[PlannedPost]:
    settings = kw.pop("settings", None) or _settings()
    return plan_posts(store, settings, now=now, policy_id="ens", **kw)


def _keys(planned: list[PlannedPost], kind: str | None = None) -> list[str]:
    return sorted(p.key for p in planned if kind is None or p.kind == kind)


# ---- the daily digest --------------------------------------------------------------------
def test_digest_once_per_local_day(store: RecordStore) -> None:
    settings = _settings(digest_channels=[111, 222])
    before = datetime(2026, 3, 10, 7, 59, tzinfo=UTC)  # 08:59 in Berlin
    assert _keys(_plan(store, before, settings=settings), "digest") == []
    after = datetime(2026, 3, 10, 8, 1, tzinfo=UTC)
    planned = _plan(store, after, settings=settings)
    assert _keys(planned, "digest") == ["digest:111:2026-03-10", "digest:222:2026-03-10"]
    sender = Recorder()
    deliver(planned, store, sender)
    assert {t for t, _ in sender.sent} == {"111", "222"}
    assert _keys(_plan(store, after + timedelta(hours=14), settings=settings), "digest") == []
    tomorrow_early = datetime(2026, 3, 11, 7, 30, tzinfo=UTC)
    assert _keys(_plan(store, tomorrow_early, settings=settings), "digest") == []
    tomorrow = datetime(2026, 3, 11, 8, 0, tzinfo=UTC)
    assert _keys(_plan(store, tomorrow, settings=settings), "digest")[0].endswith("2026-03-11")


def test_digest_key_uses_the_local_date(store: RecordStore) -> None:
    settings = _settings(timezone="Pacific/Auckland", digest_time="07:00")  # UTC+13 in March
    planned = _plan(store, datetime(2026, 3, 10, 19, 0, tzinfo=UTC), settings=settings)
    assert _keys(planned, "digest") == ["digest:111:2026-03-11"]


@pytest.mark.parametrize(
    ("zone", "at", "due"),
    [
        # New York springs forward on 8 March 2026: 09:00 is 14:00 UTC before, 13:00 UTC on it.
        ("America/New_York", datetime(2026, 3, 7, 13, 30, tzinfo=UTC), False),
        ("America/New_York", datetime(2026, 3, 7, 14, 0, tzinfo=UTC), True),
        ("America/New_York", datetime(2026, 3, 8, 12, 59, tzinfo=UTC), False),
        ("America/New_York", datetime(2026, 3, 8, 13, 0, tzinfo=UTC), True),
        # ...and falls back on 1 November: 09:00 is 14:00 UTC again.
        ("America/New_York", datetime(2026, 11, 1, 13, 30, tzinfo=UTC), False),
        ("America/New_York", datetime(2026, 11, 1, 14, 0, tzinfo=UTC), True),
    ],
)
def test_digest_time_is_dst_correct(zone: str, at: datetime, due: bool) -> None:
    assert digest_due(_settings(timezone=zone), at)[0] is due


def test_digest_time_in_a_dst_gap_or_overlap() -> None:
    # Berlin skips 02:00-03:00 on 29 March 2026: 02:30 counts as 03:30 CEST (01:30 UTC).
    gap = _settings(digest_time="02:30")
    assert not digest_due(gap, datetime(2026, 3, 29, 1, 29, tzinfo=UTC))[0]
    assert digest_due(gap, datetime(2026, 3, 29, 1, 30, tzinfo=UTC))[0]
    # 02:30 happens twice on 25 October 2026: the first one (00:30 UTC) counts.
    overlap = _settings(digest_time="02:30")
    assert not digest_due(overlap, datetime(2026, 10, 25, 0, 29, tzinfo=UTC))[0]
    assert digest_due(overlap, datetime(2026, 10, 25, 0, 30, tzinfo=UTC)) == (True, "2026-10-25")


def test_plan_posts_needs_an_aware_clock(store: RecordStore) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        _plan(store, datetime(2026, 3, 10, 12, 0))


# ---- alerts --------------------------------------------------------------------------------
def test_alerts_once_per_subscribed_channel(store: RecordStore, clock: list[datetime]) -> None:
    clock[0] = NOW - timedelta(days=8)
    store.apply_proposals([_p("old")])
    clock[0] = NOW - timedelta(hours=2)
    store.apply_proposals(
        [
            _p("fresh"),
            _p("other", space="uni.eth"),
            _p("closed", state="closed", end=NOW - timedelta(hours=1)),
            _p("spam", flagged=True),
            _p("spamspace", space="spam.eth"),
        ]
    )
    store.upsert_space(Space(source="snapshot", id="spam.eth", flagged=True))
    for channel, space in [("c1", "ens.eth"), ("c2", "ens.eth"), ("c3", "uni.eth")]:
        store.subscribe(channel, space)
    store.subscribe("c4", "spam.eth")
    planned = _plan(store)
    assert _keys(planned, "alert") == [
        "alert:c1:snapshot:fresh",
        "alert:c2:snapshot:fresh",
        "alert:c3:snapshot:other",
    ]
    deliver(planned, store, Recorder())
    assert _keys(_plan(store), "alert") == []


def test_webhook_mode_alerts_every_space(store: RecordStore) -> None:
    store.apply_proposals([_p("a"), _p("b", space="uni.eth")])
    planned = _plan(store, targets="webhook")
    assert _keys(planned, "alert") == ["alert:webhook:snapshot:a", "alert:webhook:snapshot:b"]
    assert _keys(planned, "digest") == ["digest:webhook:2026-03-10"]
    assert all(p.target == "webhook" for p in planned)


# ---- reminders -----------------------------------------------------------------------------
def _vote(uid: str, voter: str) -> Vote:
    return Vote(
        source="snapshot",
        id=f"v-{uid}-{voter}",
        proposal_uid=uid,
        space="ens.eth",
        voter=voter,
        choice=1,
        voting_power=10.0,
        created=NOW - timedelta(hours=3),
    )


def test_reminders_only_when_the_delegate_has_not_voted(store: RecordStore) -> None:
    soon = NOW + timedelta(hours=5)
    store.apply_proposals(
        [
            _p("unvoted", end=soon),
            _p("voted", end=soon),
            _p("later", end=NOW + timedelta(days=3)),
            _p("ended", end=NOW - timedelta(hours=1), state="closed"),
        ]
    )
    store.apply_votes(
        [
            _vote("snapshot:voted", DELEGATE.lower()),
            _vote("snapshot:unvoted", "0x0000000000000000000000000000000000000002"),
        ]
    )
    settings = _settings(delegate_address=DELEGATE, reminder_window_h=24)
    planned = _plan(store, settings=settings)
    assert _keys(planned, "reminder") == ["reminder:111:snapshot:unvoted"]
    assert "in 5 h" in planned[-1].messages[0].content
    assert _keys(_plan(store), "reminder") == []  # no delegate address: no reminders


# ---- delivery through the post log ---------------------------------------------------------
def test_deliver_twice_posts_once_even_across_restarts(db: str, store: RecordStore) -> None:
    store.apply_proposals([_p("fresh")])
    store.subscribe("c1", "ens.eth")
    planned = _plan(store)
    assert _keys(planned) == ["alert:c1:snapshot:fresh", "digest:111:2026-03-10"]
    sender = Recorder()
    first = deliver(planned, store, sender)
    assert sorted(first.posted) == _keys(planned) and len(sender.sent) >= 2
    sent = len(sender.sent)
    again = deliver(planned, store, sender)
    assert again.posted == [] and sorted(again.skipped) == _keys(planned)
    restarted = RecordStore(db)
    assert _plan(restarted) == []
    deliver(planned, restarted, sender)
    assert len(sender.sent) == sent


def test_failed_post_is_retried_then_marked_posted(db: str, store: RecordStore) -> None:
    store.apply_proposals([_p("fresh")])
    for channel in ("up", "down"):
        store.subscribe(channel, "ens.eth")
    planned = [p for p in _plan(store) if p.kind == "alert"]
    report = deliver(planned, store, Recorder(fail={"down"}))
    assert report.posted == ["alert:up:snapshot:fresh"]
    assert list(report.failed) == ["alert:down:snapshot:fresh"] and report.retry_after == 2.5
    failed = store.post("alert:down:snapshot:fresh")
    assert failed is not None and failed.status == "failed" and "down" in (failed.error or "")

    restarted = RecordStore(db)  # the payload survives a restart
    sender = Recorder()
    retried = retry_unsent(restarted, sender)
    assert retried.posted == ["alert:down:snapshot:fresh"]
    assert [t for t, _ in sender.sent] == ["down"]
    assert sender.sent[0][1] == planned[1].messages[0]
    post = restarted.post("alert:down:snapshot:fresh")
    assert post is not None and post.status == "posted"
    assert retry_unsent(restarted, sender).posted == []


def test_a_crashing_sender_is_recorded_without_its_message(store: RecordStore) -> None:
    store.apply_proposals([_p("fresh")])
    store.subscribe("c1", "ens.eth")
    report = deliver(_plan(store), store, Recorder(crash=True))
    assert len(report.failed) == 2
    assert all(e == "unexpected OSError" for e in report.failed.values())


def test_a_planned_key_left_failed_is_resent_by_deliver(store: RecordStore) -> None:
    message = Message(content="hello")
    post = PlannedPost(key="alert:c1:x", target="c1", kind="alert", messages=[message])
    deliver([post], store, Recorder(fail={"c1"}))
    sender = Recorder()
    assert deliver([post], store, sender).posted == ["alert:c1:x"]
    assert sender.sent == [("c1", message)]
    assert deliver([post], store, sender).skipped == ["alert:c1:x"]


class FailsOnThird(Recorder):
    """Fails once, on the third message it is asked to send."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def send(self, target: str, message: Message) -> None:
        self.calls += 1
        if self.calls == 3:
            raise DeliveryError("HTTP 503", retry_after=None)
        super().send(target, message)


def test_a_split_post_resumes_after_the_pieces_already_sent(store: RecordStore) -> None:
    pieces = [Message(content=f"piece {i}") for i in range(5)]
    planned = [PlannedPost(key="digest:111:x", target="111", kind="digest", messages=pieces)]
    sender = FailsOnThird()
    assert list(deliver(planned, store, sender).failed) == ["digest:111:x"]
    assert [m.content for _, m in sender.sent] == ["piece 0", "piece 1"]
    assert retry_unsent(store, sender).posted == ["digest:111:x"]
    sent = [m.content for _, m in sender.sent]
    assert sent == [f"piece {i}" for i in range(5)]  # each piece once, in order
