"""What should be posted now: the daily digest, new-proposal alerts, vote reminders.

Pure apart from reading the store, with the clock passed in, so a test can
walk through days and DST switches. Every planned post carries a key that
names it for good (`digest:<target>:<local date>`, `alert:<target>:<uid>`,
`reminder:<target>:<uid>`); keys already posted are left out, and `deliver`
claims the rest in the post log, so a post goes out once across restarts.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from agent.chat.builders import alert_message, digest_messages, reminder_message
from agent.chat.models import PlannedPost
from agent.digest.build import build_digest
from agent.digest.render import parse_since
from agent.models import Proposal
from agent.settings import DiscordSettings
from agent.store.records import RecordStore
from agent.voters.service import VoterFigures

WEBHOOK = "webhook"
ALERT_WINDOW = timedelta(days=7)
"""Open proposals first seen longer ago than this are not news any more."""


def plan_posts(
    store: RecordStore,
    settings: DiscordSettings,
    *,
    now: datetime,
    policy_id: str | None,
    targets: Literal["bot", "webhook"] = "bot",
    figures: VoterFigures | None = None,
) -> list[PlannedPost]:
    """Posts due at `now` and not yet posted: digest first, then alerts, then reminders."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    planned = [
        *_digests(store, settings, now, policy_id, targets, figures),
        *_alerts(store, now, policy_id, targets),
        *_reminders(store, settings, now, policy_id, targets),
    ]
    return [p for p in planned if not _posted(store, p.key)]


def digest_due(settings: DiscordSettings, now: datetime) -> tuple[bool, str]:
    """Whether today's digest time has passed where the delegate lives, and that local date.

    Compared as instants, not wall-clock times: on a DST switch day 09:00 local
    is a different UTC hour than the day before. A time skipped by the switch
    counts from the same wall time at the old offset (02:30 → 03:30 local).
    """
    zone = ZoneInfo(settings.timezone)
    local = now.astimezone(zone)
    hour, minute = (int(part) for part in settings.digest_time.split(":"))
    due = datetime.combine(local.date(), time(hour, minute), tzinfo=zone)
    return now.astimezone(UTC) >= due.astimezone(UTC), local.date().isoformat()


def _digests(
    store: RecordStore,
    settings: DiscordSettings,
    now: datetime,
    policy_id: str | None,
    targets: str,
    figures: VoterFigures | None = None,
) -> list[PlannedPost]:
    due, day = digest_due(settings, now)
    channels = _digest_targets(settings, targets)
    keys = {c: f"digest:{c}:{day}" for c in channels}
    if not due or all(_posted(store, k) for k in keys.values()):
        return []
    digest = build_digest(
        store,
        now=now,
        since=parse_since(settings.digest_since),
        policy_id=policy_id,
        figures=figures,
    )
    messages = digest_messages(digest)
    return [PlannedPost(key=k, target=c, kind="digest", messages=messages) for c, k in keys.items()]


def _alerts(
    store: RecordStore, now: datetime, policy_id: str | None, targets: str
) -> list[PlannedPost]:
    """One alert per subscribed channel for each open proposal first seen this week."""
    by_space: dict[str, list[str]] = {}
    for channel, space in store.subscriptions():
        by_space.setdefault(space, []).append(channel)
    posts = []
    for p in _visible_open(store):
        where = [WEBHOOK] if targets == WEBHOOK else by_space.get(p.space, [])
        if not where or not _first_seen_since(store, p, now - ALERT_WINDOW):
            continue
        message = alert_message(p, store.latest_assessment(p.uid, policy_id))
        posts += [
            PlannedPost(key=f"alert:{t}:{p.uid}", target=t, kind="alert", messages=[message])
            for t in dict.fromkeys(where)
        ]
    return posts


def _reminders(
    store: RecordStore,
    settings: DiscordSettings,
    now: datetime,
    policy_id: str | None,
    targets: str,
) -> list[PlannedPost]:
    """Proposals closing within the window that the delegate has not voted on.

    They go where the digest goes: they are meant for the delegate, not for
    every channel following a space.
    """
    address = (settings.delegate_address or "").strip().casefold()
    channels = _digest_targets(settings, targets)
    if not address or not channels:
        return []
    until = now + timedelta(hours=settings.reminder_window_h)
    posts = []
    for p in _visible_open(store):
        if p.end is None or not now < p.end <= until:
            continue
        if any(v.voter.strip().casefold() == address for v in store.votes(p.uid)):
            continue
        message = reminder_message(p, store.latest_assessment(p.uid, policy_id), now)
        posts += [
            PlannedPost(key=f"reminder:{c}:{p.uid}", target=c, kind="reminder", messages=[message])
            for c in channels
        ]
    return posts


def _digest_targets(settings: DiscordSettings, targets: str) -> list[str]:
    if targets == WEBHOOK:
        return [WEBHOOK]
    return [str(c) for c in dict.fromkeys(settings.digest_channels)]


def _visible_open(store: RecordStore) -> list[Proposal]:
    """Open proposals, leaving out flagged ones and those of flagged spaces (spam)."""
    flagged = {(s.source, s.id) for s in store.spaces() if s.flagged}
    return [
        p
        for p in store.proposals()
        if p.is_open and not p.flagged and (p.source, p.space) not in flagged
    ]


def _first_seen_since(store: RecordStore, p: Proposal, since: datetime) -> bool:
    stored = store.get(p.uid)
    return stored is not None and stored.first_seen >= since


def _posted(store: RecordStore, key: str) -> bool:
    post = store.post(key)
    return post is not None and post.status == "posted"
