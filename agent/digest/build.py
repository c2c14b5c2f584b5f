"""Selecting what a delegate needs to see: new, closing soon, and just ended.

Pure apart from reading the store: the clock is passed in (`now`), so the same
store and the same `now` always give the same digest.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from agent.decode.stored import key_action_briefs
from agent.models import Proposal, ProposalState, SourceKind, Space
from agent.records.assessment import Assessment, Recommendation
from agent.records.simulation import SimulationReport
from agent.simulate.flows import summary
from agent.store.records import StoredProposal
from agent.voters.models import Concentration
from agent.voters.outcome import outcome_verdict
from agent.voters.service import VoterFigures, VoteStore

OutcomeFrom = Literal["source", "state", "votes"]
_INJECTION = {
    "instruction_to_model": "instructions to the model",
    "addressed_to_ai": "text addressed to an AI",
    "fake_system_message": "a fake system message",
    "hidden_unicode": "hidden unicode characters",
    "html_comment": "an HTML comment",
    "hidden_markup": "hidden markup",
}
_STATE_OUTCOME: dict[str, str] = {
    "succeeded": "succeeded",
    "queued": "succeeded (queued)",
    "executed": "executed",
    "defeated": "defeated",
    "canceled": "canceled",
    "expired": "expired",
}


class DigestStore(VoteStore, Protocol):
    """What the digest reads from the record store (votes: for the concentration figures)."""

    def get(self, uid: str) -> StoredProposal | None: ...

    def spaces(self) -> list[Space]: ...

    def latest_assessments(
        self, uids: list[str], policy_id: str | None = None
    ) -> dict[str, Assessment]: ...

    def latest_simulation(self, uid: str) -> SimulationReport | None: ...


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TallyEntry(_Frozen):
    """One choice's share of the vote."""

    choice: str
    score: float
    percent: float = Field(ge=0.0, le=100.0)
    leading: bool = False


class DigestItem(_Frozen):
    """One proposal as the digest shows it; every text field is untrusted."""

    uid: str
    title: str
    space: str
    source: SourceKind
    state: ProposalState
    link: str | None = None
    discussion: str | None = None
    created: datetime | None = None
    start: datetime | None = None
    end: datetime | None = None
    time_left: timedelta | None = None
    votes_count: int = 0
    tally: list[TallyEntry] = Field(default_factory=list)
    quorum_reached: bool | None = None
    analysed: bool = False
    summary: str | None = None
    recommendation: Recommendation | None = None
    choice: str | None = None
    confidence: float | None = None
    escalate: bool = False
    escalation_reasons: list[str] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list)
    hard_rule_failures: list[str] = Field(default_factory=list)
    actions: list[str] = Field(default_factory=list)
    """What the proposal executes that a delegate must see (decoded on-chain actions)."""
    outcome: str | None = None
    outcome_from: OutcomeFrom | None = None
    agrees: bool | None = None
    """Did the outcome match the recommendation? None: no assessment, abstain, or unclear."""
    simulation: str | None = None
    """One line from the fork simulation of this version ("simulated (governor): …")."""
    concentration: Concentration | None = None
    """Who decides: voters, top shares, Nakamoto coefficient, Gini (from stored votes)."""


class Digest(_Frozen):
    """What happened in a window, for the people who have to vote on it."""

    generated: datetime
    since: datetime
    closing_window: timedelta
    spaces: list[str] | None = None
    policy_id: str | None = None
    new: list[DigestItem] = Field(default_factory=list)
    closing: list[DigestItem] = Field(default_factory=list)
    ended: list[DigestItem] = Field(default_factory=list)
    flagged_hidden: int = 0
    """Flagged (spam) proposals left out; shown so nothing disappears silently."""

    @property
    def empty(self) -> bool:
        return not (self.new or self.closing or self.ended)


def build_digest(
    store: DigestStore,
    *,
    now: datetime,
    since: timedelta,
    spaces: Sequence[str] | None = None,
    policy_id: str | None = None,
    closing_window: timedelta = timedelta(hours=48),
    include_flagged: bool = False,
    figures: VoterFigures | None = None,
) -> Digest:
    """The digest at `now` covering the last `since`.

    A proposal can sit in two sections (new and closing soon): each answers a
    different question, and a reader scanning one should not miss it.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    if since <= timedelta(0) or closing_window <= timedelta(0):
        raise ValueError("since and closing_window must be positive")
    start = now - since
    flagged_spaces = {(s.source, s.id) for s in store.spaces() if s.flagged}
    new: list[Proposal] = []
    closing: list[Proposal] = []
    ended: list[Proposal] = []
    hidden: set[str] = set()
    for p in _load(store, spaces):
        picks = (
            (new, _is_new(store, p, start, now)),
            (closing, p.is_open and p.end is not None and now < p.end <= now + closing_window),
            (ended, p.end is not None and start < p.end <= now),
        )
        if not include_flagged and (p.flagged or (p.source, p.space) in flagged_spaces):
            hidden.update(p.uid for _, picked in picks if picked)
            continue
        for section, picked in picks:
            if picked:
                section.append(p)
    new.sort(key=lambda p: p.created or now, reverse=True)
    closing.sort(key=lambda p: p.end or now)
    ended.sort(key=lambda p: p.end or now, reverse=True)
    uids = sorted({p.uid for p in (*new, *closing, *ended)})
    found = store.latest_assessments(uids, policy_id) if uids else {}
    figures = figures or VoterFigures(store)

    def items(ps: list[Proposal]) -> list[DigestItem]:
        return [
            _simulated(
                _item(p, found.get(p.uid), now).model_copy(
                    update={"concentration": figures.concentration(p)}
                ),
                p,
                store,
            )
            for p in ps
        ]

    return Digest(
        generated=now,
        since=start,
        closing_window=closing_window,
        spaces=list(spaces) if spaces else None,
        policy_id=policy_id,
        new=items(new),
        closing=items(closing),
        ended=items(ended),
        flagged_hidden=len(hidden),
    )


def _simulated(item: DigestItem, p: Proposal, store: DigestStore) -> DigestItem:
    report = store.latest_simulation(p.uid) if p.source == "chain" else None
    if report is None or report.content_hash != p.content_hash:
        return item
    return item.model_copy(update={"simulation": summary(report, set(report.dao) or None)})


def _load(store: DigestStore, spaces: Sequence[str] | None) -> list[Proposal]:
    if not spaces:
        return store.proposals()
    return [p for space in dict.fromkeys(spaces) for p in store.proposals(space=space)]


def _is_new(store: DigestStore, p: Proposal, start: datetime, now: datetime) -> bool:
    """Created in the window, or first seen in it while still open.

    A backfilled archive is not news, but an open proposal Steward has only
    just learned about is, whenever it was created.
    """
    if p.created and start < p.created <= now:
        return True
    if not p.is_open:
        return False
    stored = store.get(p.uid)
    return stored is not None and start < stored.first_seen <= now


def _item(p: Proposal, a: Assessment | None, now: datetime) -> DigestItem:
    tally = _tally(p)
    quorum = _quorum_reached(p)
    outcome, outcome_from = _outcome(p, tally, quorum, now)
    base = DigestItem(
        uid=p.uid,
        title=p.title,
        space=p.space,
        source=p.source,
        state=p.state,
        link=p.link,
        discussion=p.discussion,
        created=p.created,
        start=p.start,
        end=p.end,
        time_left=p.end - now if p.end and p.end > now else None,
        votes_count=p.votes_count,
        tally=tally,
        quorum_reached=quorum,
        outcome=outcome,
        outcome_from=outcome_from,
        actions=key_action_briefs(p.extra, limit=5),
    )
    if a is None:
        return base
    failures = [f"hard rule {r.rule}: {r.detail}" for r in a.hard_rules if r.outcome == "fail"]
    return base.model_copy(
        update={
            "analysed": True,
            "summary": a.summary,
            "recommendation": a.recommendation,
            "choice": a.choice,
            "confidence": a.confidence,
            "escalate": a.escalate,
            "escalation_reasons": list(a.escalation_reasons),
            "flags": _flags(a, failures),
            "hard_rule_failures": failures,
            "agrees": _agrees(a, outcome, tally) if outcome else None,
        }
    )


def _flags(a: Assessment, failures: list[str]) -> list[str]:
    """Risk flags, then one line per kind of injection found; no repeats."""
    kinds = Counter(_INJECTION.get(f.kind, f.kind) for f in a.injection)
    injected = [
        f"possible prompt injection: {k}" + (f" ({n} found)" if n > 1 else "")
        for k, n in kinds.items()
    ]
    return [f for f in dict.fromkeys([*a.risk_flags, *injected]) if f not in failures]


def _tally(p: Proposal) -> list[TallyEntry]:
    if not p.choices:
        return []
    scores = [p.scores[i] if i < len(p.scores) else 0.0 for i in range(len(p.choices))]
    total = p.scores_total if p.scores_total else sum(scores)
    top = max(scores)
    return [
        TallyEntry(
            choice=choice,
            score=score,
            percent=min(100.0, round(100 * score / total, 1)) if total > 0 else 0.0,
            leading=top > 0 and score == top,
        )
        for choice, score in zip(p.choices, scores, strict=True)
    ]


def _quorum_reached(p: Proposal) -> bool | None:
    if not p.quorum or p.quorum <= 0 or p.scores_total is None:
        return None
    return p.scores_total >= p.quorum


def _outcome(
    p: Proposal, tally: list[TallyEntry], quorum: bool | None, now: datetime
) -> tuple[str | None, OutcomeFrom | None]:
    """The source's stated result if any, else the chain state, else the votes."""
    if p.end is None or p.end > now:
        return None, None
    if p.outcome:
        return p.outcome, "source"
    if p.state in _STATE_OUTCOME:
        return _STATE_OUTCOME[p.state], "state"
    if quorum is False:
        return "quorum not reached", "votes"
    leaders = [t.choice for t in tally if t.leading]
    if len(leaders) != 1:
        return ("tie" if leaders else None), ("votes" if leaders else None)
    return leaders[0], "votes"


def _agrees(a: Assessment, outcome: str, tally: list[TallyEntry]) -> bool | None:
    if a.recommendation in ("ABSTAIN", "NONE"):
        return None
    labels = {t.choice.strip().casefold() for t in tally}
    won = outcome.strip().casefold()
    if won in labels and a.choice is not None:
        return a.choice.strip().casefold() == won
    verdict = outcome_verdict(outcome)
    return None if verdict is None else verdict == a.recommendation
