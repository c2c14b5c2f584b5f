"""Casting one decided vote, the way a wallet would.

Under the per-vote lock: re-read the decision (a veto may have landed), re-read
the proposal at its source (an edit means analyse and decide again), check every
guardrail once more, ask the source whether the vote is already there, write
the intent, send, record what was sent before waiting, then confirm. Any
failure leaves a record from which `reconcile` finds the truth before retrying.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal

from agent.errors import (
    AlreadyVoted,
    FeeCapExceeded,
    OutcomeUnknown,
    SequencerUnavailable,
    SourceUnavailable,
    StewardError,
    TransactionRefused,
    VoteAlreadyRecorded,
)
from agent.models import Proposal
from agent.records.assessment import Assessment
from agent.records.decision import Decision
from agent.settings import DelegateSettings
from agent.store import RecordStore
from agent.store.decisions import DecisionLog
from agent.voting.audit_log import AuditLog
from agent.voting.backtest_gate import TrackRecord
from agent.voting.guardrails import Blocker, cast_blockers
from agent.voting.intent_store import IntentStore
from agent.voting.intents import redact
from agent.voting.models import Intent
from agent.voting.ports import VoteSink
from agent.voting.provenance import VoteBundle

CastOutcome = Literal[
    "cast", "confirmed", "waiting", "blocked", "superseded", "already_voted", "failed", "unknown"
]
# Blockers that may clear by themselves: try again on a later tick, record nothing.
TRANSIENT = frozenset({"too_early", "paused", "voting_disabled", "daily_limit"})


class Caster:
    """Casts decided votes for the voting service (one per data directory)."""

    def __init__(
        self,
        store: RecordStore,
        decisions: DecisionLog,
        intents: IntentStore,
        audit: AuditLog,
        *,
        enabled: Callable[[], bool],
        paused: Callable[[], str | None],
        secrets: Callable[[], list[str]],
        track_record: Callable[[DelegateSettings], TrackRecord] | None = None,
    ) -> None:
        self._track = track_record
        self.store = store
        self.decisions = decisions
        self.intents = intents
        self.audit = audit
        self._enabled = enabled
        self._paused = paused
        self._secrets = secrets

    def cast(
        self,
        delegate: DelegateSettings,
        decision: Decision,
        sink: VoteSink,
        assessment: Assessment | None,
        *,
        now: datetime,
        redecide: Callable[[Proposal], None],
    ) -> CastOutcome:
        """One attempt; the caller holds the per-vote lock."""
        fresh_decision = self.decisions.get(decision.id)
        if fresh_decision is None or fresh_decision.status not in ("approved", "scheduled"):
            return "blocked"  # vetoed (or handled) since the caller looked
        decision = fresh_decision  # with what an earlier attempt recorded as sent
        stored = self.store.get(decision.proposal_uid)
        if stored is None:
            return "blocked"
        proposal = sink.refresh(stored.proposal)
        if proposal.content_hash != decision.content_hash:
            self.store.apply_proposals([proposal])
            if self.decisions.move(decision.id, "superseded", expected=("approved", "scheduled")):
                self._audit("skipped", delegate, decision, why="the proposal changed: re-analysed")
            redecide(proposal)
            return "superseded"
        votes_today = self.intents.votes_cast_since(delegate.id, now - timedelta(hours=24))
        blockers = cast_blockers(
            delegate,
            proposal,
            assessment,
            now=now,
            enabled=self._enabled(),
            paused=self._paused(),
            votes_today=votes_today,
            track=self._track(delegate) if self._track else None,
        )
        if blockers:
            return self._blocked(delegate, decision, blockers)
        intent = self.intents.for_proposal(delegate.id, proposal.uid)
        if intent is not None and intent.status not in ("intended", "submitted"):
            return "already_voted"
        landed = sink.landed(proposal, intent.external_ref if intent else None)
        if landed is not None:
            self._settle_landed(delegate, decision, intent, landed.ref)
            return "already_voted"
        if intent is None:
            intent = self._new_intent(delegate, decision, sink)
            if intent is None:
                return "waiting"  # another process wrote it first; it casts
        if self._paused() or not self._enabled():
            return "blocked"  # the kill switch, checked again at the last moment
        return self._send(delegate, decision, sink, proposal, intent)

    # ---- steps ------------------------------------------------------------
    def _blocked(
        self, delegate: DelegateSettings, decision: Decision, blockers: list[Blocker]
    ) -> CastOutcome:
        if all(b.code in TRANSIENT for b in blockers):
            return "waiting"
        if self.decisions.move(decision.id, "blocked", expected=("approved", "scheduled")):
            self._audit(
                "skipped",
                delegate,
                decision,
                why="; ".join(f"{b.code}: {b.detail}" for b in blockers),
                blockers=[b.code for b in blockers],
            )
        return "blocked"

    def _new_intent(
        self, delegate: DelegateSettings, decision: Decision, sink: VoteSink
    ) -> Intent | None:
        if decision.choice is None:
            return None
        bundle = VoteBundle.model_validate(decision.data.bundle)
        intent = self.intents.create_intent(
            bundle,
            delegate=delegate.id,
            target=sink.kind,
            choice=decision.choice,
            reason=decision.data.reason or "",
        )
        if intent is not None:
            self._audit("intent", delegate, decision, intent=intent.id, target=sink.kind)
        return intent

    def _send(
        self,
        delegate: DelegateSettings,
        decision: Decision,
        sink: VoteSink,
        proposal: Proposal,
        intent: Intent,
    ) -> CastOutcome:
        sent: dict[str, Any] = dict(decision.data.sent.keep) if decision.data.sent else {}

        def on_sent(ref: str, keep: dict[str, object]) -> None:
            self.decisions.remember_sent(decision.id, ref, dict(keep))
            self.intents.mark_submitted(intent.id, ref)
            self._audit("cast", delegate, decision, intent=intent.id, ref=ref)

        assert decision.choice is not None  # guardrails refuse a vote without a choice
        try:
            receipt = sink.cast(
                proposal, decision.choice, intent.reason, on_sent=on_sent, resend=sent or None
            )
        except (VoteAlreadyRecorded, AlreadyVoted):
            self._settle_landed(delegate, decision, self.intents.get(intent.id), None)
            return "already_voted"
        except (
            OutcomeUnknown,
            SequencerUnavailable,
            SourceUnavailable,
            FeeCapExceeded,
            TransactionRefused,
        ) as exc:
            # Nothing landed for sure (or we cannot know): keep the intent open; the next
            # tick reconciles with the source before it tries again.
            self._fail(delegate, decision, intent, exc, retryable=True)
            return "unknown" if isinstance(exc, OutcomeUnknown) else "failed"
        except StewardError as exc:
            self._fail(delegate, decision, intent, exc, retryable=False)
            self.decisions.move(decision.id, "blocked", expected=("approved", "scheduled"))
            return "failed"
        if not receipt.confirmed:
            return "cast"
        self.intents.mark_confirmed(intent.id, receipt.ref)
        self.decisions.move(decision.id, "cast", expected=("approved", "scheduled"))
        self._audit("confirmed", delegate, decision, intent=intent.id, ref=receipt.ref)
        return "confirmed"

    def _settle_landed(
        self,
        delegate: DelegateSettings,
        decision: Decision,
        intent: Intent | None,
        ref: str | None,
    ) -> None:
        if intent is not None:
            ours = intent.external_ref is not None and intent.external_ref == ref
            moved = (
                self.intents.mark_confirmed(intent.id, ref)
                if ours and intent.status == "submitted"
                else self.intents.mark_reconciled(intent.id, ref)
            )
            if moved:
                self._audit("reconciled", delegate, decision, intent=intent.id, ref=ref)
        else:
            self._audit("reconciled", delegate, decision, ref=ref, why="already voted at source")
        self.decisions.move(decision.id, "cast", expected=("approved", "scheduled"))

    def _fail(
        self,
        delegate: DelegateSettings,
        decision: Decision,
        intent: Intent,
        exc: Exception,
        *,
        retryable: bool,
    ) -> None:
        message = redact(f"{type(exc).__name__}: {exc}", self._secrets())
        self.intents.mark_failed(intent.id, message, retryable=retryable)
        self._audit(
            "failed", delegate, decision, intent=intent.id, error=message, retryable=retryable
        )

    def _audit(
        self, kind: Any, delegate: DelegateSettings, decision: Decision, **data: Any
    ) -> None:
        self.audit.append(
            kind,
            delegate=delegate.id,
            proposal_uid=decision.proposal_uid,
            data={"decision": decision.id, **data},
        )
