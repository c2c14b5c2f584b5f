"""The voting loop: reconcile, decide, cast — for every delegate who opted in.

`tick` is what `steward run` calls on a schedule and `steward vote` once. It
first settles every unfinished intent against the source (a crash between
intent, cast and receipt must neither lose nor repeat a vote), then for each
open proposal in a delegate's scope decides (once per proposal version) and
casts what is approved or past its veto window. Approve, veto and pause come
from Discord or the CLI and are recorded in the hash-chained audit log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from agent.analysis.policy import Policy
from agent.errors import StewardError
from agent.home import DataHome
from agent.models import Proposal
from agent.records.assessment import Assessment
from agent.records.decision import LIVE, Decision
from agent.settings import DelegateSettings, VotingSettings
from agent.store import RecordStore
from agent.store.decisions import DecisionLog
from agent.voting.audit_log import AuditLog
from agent.voting.backtest_gate import TrackRecord
from agent.voting.cast import Caster, CastOutcome
from agent.voting.decide import decide
from agent.voting.guardrails import timing
from agent.voting.intent_store import IntentStore
from agent.voting.lock import LockHeld, VoteLocks
from agent.voting.ports import VoteSink

log = logging.getLogger(__name__)

Analyse = Callable[[Proposal, Policy], Assessment]
SinkFor = Callable[[DelegateSettings, Proposal], VoteSink | None]


def outcome_key(delegate: str, uid: str) -> str:
    return f"{delegate}:{uid}"


class TickReport(BaseModel):
    decided: list[str] = Field(default_factory=list)
    outcomes: dict[str, str] = Field(default_factory=dict)
    """`delegate:proposal uid` → what the cast step did (cast, confirmed, waiting, …)."""
    reconciled: int = 0
    errors: list[str] = Field(default_factory=list)


class VotingService:
    def __init__(
        self,
        store: RecordStore,
        settings: VotingSettings,
        *,
        home: Path,
        pause_path: Path,
        policy: Callable[[str], Policy],
        analyse: Analyse,
        sink_for: SinkFor,
        audit: AuditLog,
        secrets: Callable[[], list[str]] = list,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        live: bool = True,
        track_record: Callable[[DelegateSettings], TrackRecord] | None = None,
    ) -> None:
        """`track_record`: the delegate's backtest track record (the gate for auto mode;
        without it auto mode casts nothing)."""
        self.track_record = track_record
        self.store = store
        self.settings = settings
        self.pause_path = pause_path
        self.decisions = DecisionLog(store.engine)
        self.intents = IntentStore(store.engine)
        self.audit = audit
        self.locks = VoteLocks(DataHome(home).vote_locks)
        self._policy = policy
        self._analyse = analyse
        self._sink_for = sink_for
        self._clock = clock
        self.live = live
        """False: every delegate is treated as dry-run (`steward vote` without --live)."""
        self.caster = Caster(
            store,
            self.decisions,
            self.intents,
            audit,
            enabled=lambda: self.settings.enabled and self.live,
            paused=self.paused,
            secrets=secrets,
            track_record=track_record,
        )

    # ---- the kill switch -------------------------------------------------
    def paused(self) -> str | None:
        """Why casting is paused, or None. Read from disk every time: honoured at once."""
        try:
            note = self.pause_path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except OSError:
            return "the pause file exists but cannot be read"
        return f"paused: {note[:200] or 'pause file present'}"

    def pause(self, by: str, note: str = "") -> None:
        self.pause_path.parent.mkdir(parents=True, exist_ok=True)
        self.pause_path.write_text(f"by {by}. {note}".strip(), encoding="utf-8")
        self.audit.append("paused", data={"by": by, "note": note[:200]})

    def resume(self, by: str) -> bool:
        try:
            self.pause_path.unlink()
        except FileNotFoundError:
            return False
        self.audit.append("resumed", data={"by": by})
        return True

    # ---- delegate answers ------------------------------------------------
    def approve(self, decision_id: str, by: str) -> bool:
        moved = self.decisions.move(decision_id, "approved", expected=("awaiting_approval",), by=by)
        if moved:
            self._answer_audit("approved", decision_id, by)
        return moved

    def veto(self, decision_id: str, by: str) -> bool:
        moved = self.decisions.move(
            decision_id, "vetoed", expected=("awaiting_approval", "scheduled", "approved"), by=by
        )
        if moved:
            self._answer_audit("vetoed", decision_id, by)
        return moved

    def _answer_audit(self, kind: str, decision_id: str, by: str) -> None:
        d = self.decisions.get(decision_id)
        if d is not None:
            self.audit.append(
                kind,  # type: ignore[arg-type]
                delegate=d.delegate,
                proposal_uid=d.proposal_uid,
                data={"decision": d.id, "by": by},
            )

    # ---- the loop ----------------------------------------------------------
    def tick(self, *, only: list[str] | None = None) -> TickReport:
        report = TickReport()
        report.reconciled = self.reconcile(report)
        for delegate in self.settings.delegates:
            if delegate.mode == "off":
                continue
            for proposal in self._in_scope(delegate, only):
                try:
                    self.step(delegate, proposal, report)
                except LockHeld:
                    report.outcomes[outcome_key(delegate.id, proposal.uid)] = "waiting"
                except StewardError as exc:
                    report.errors.append(f"{delegate.id} {proposal.uid}: {exc}")
        return report

    def mode(self, delegate: DelegateSettings) -> str:
        return delegate.mode if self.live else "dry-run"

    def step(self, delegate: DelegateSettings, proposal: Proposal, report: TickReport) -> None:
        now = self._clock()
        window = timing(delegate, proposal)
        if window is None or now < window.recommend_from or not proposal.is_open:
            return
        mode = self.mode(delegate)
        current = self.decisions.for_version(delegate.id, proposal.uid, proposal.content_hash, mode)
        if current is None:
            current = self._decide(delegate, proposal, mode, now)
            if current is None:
                return
            report.decided.append(proposal.uid)
        if current.status in ("approved", "scheduled") and now.timestamp() >= (
            current.cast_after_ts or 0
        ):
            outcome = self._cast(delegate, current, now)
            report.outcomes[outcome_key(delegate.id, proposal.uid)] = outcome
        elif (
            current.status in LIVE
            and now > window.cast_until
            and self.decisions.move(current.id, "expired", expected=LIVE)
        ):
            self.audit.append(
                "skipped",
                delegate=delegate.id,
                proposal_uid=proposal.uid,
                data={"decision": current.id, "why": f"{current.status} at the deadline"},
            )

    def _decide(
        self, delegate: DelegateSettings, proposal: Proposal, mode: str, now: datetime
    ) -> Decision | None:
        window = timing(delegate, proposal)
        assert window is not None
        assessment, error = None, None
        try:
            assessment = self._analyse(proposal, self._policy(delegate.policy))
        except StewardError as exc:
            error = str(exc)[:300]
        return decide(
            delegate,
            proposal,
            assessment,
            mode=mode,
            window=window,
            now=now,
            decisions=self.decisions,
            audit=self.audit,
            analysis_error=error,
            track=self.track_record(delegate) if self.track_record else None,
        )

    def _cast(self, delegate: DelegateSettings, decision: Decision, now: datetime) -> CastOutcome:
        stored = self.store.get(decision.proposal_uid)
        if stored is None:
            return "blocked"
        sink = self._sink_for(delegate, stored.proposal)
        if sink is None:
            return "blocked"

        def redecide(fresh: Proposal) -> None:
            self._decide(delegate, fresh, self.mode(delegate), now)

        with self.locks.hold(delegate.id, decision.proposal_uid, timeout=5.0):
            policy = self._policy(delegate.policy)
            assessment = self.store.latest_assessment(decision.proposal_uid, policy.id)
            return self.caster.cast(
                delegate, decision, sink, assessment, now=now, redecide=redecide
            )

    # ---- reconciliation ------------------------------------------------------
    def reconcile(self, report: TickReport | None = None) -> int:
        """Settle intents a crash or an unknown outcome left open, from the source's truth."""
        settled = 0
        by_id = {d.id: d for d in self.settings.delegates}
        for intent in self.intents.pending():
            delegate = next((d for k, d in by_id.items() if k.lower() == intent.delegate), None)
            stored = self.store.get(intent.proposal_uid)
            if delegate is None or stored is None:
                continue
            sink = self._sink_for(delegate, stored.proposal)
            if sink is None:
                continue
            try:
                with self.locks.hold(delegate.id, intent.proposal_uid, timeout=5.0):
                    landed = sink.landed(stored.proposal, intent.external_ref)
                    if landed is None and not stored.proposal.is_open:
                        why = f"the vote did not land before the proposal ended ({intent.status})"
                        if self.intents.mark_failed(intent.id, why, retryable=False):
                            self.audit.append(
                                "failed",
                                delegate=delegate.id,
                                proposal_uid=intent.proposal_uid,
                                data={"intent": intent.id, "error": why},
                            )
                        continue
                    if landed is None:
                        continue  # not there: the cast step resends (same envelope / nonce)
                    ours = intent.external_ref is not None and landed.ref == intent.external_ref
                    moved = (
                        self.intents.mark_confirmed(intent.id, landed.ref)
                        if ours and intent.status == "submitted"
                        else self.intents.mark_reconciled(intent.id, landed.ref)
                    )
                    if moved:
                        settled += 1
                        self.audit.append(
                            "reconciled",
                            delegate=delegate.id,
                            proposal_uid=intent.proposal_uid,
                            data={"intent": intent.id, "ref": landed.ref, "ours": ours},
                        )
                    for d in self.decisions.with_status("approved", "scheduled"):
                        if d.proposal_uid == intent.proposal_uid and d.delegate == delegate.id:
                            self.decisions.move(d.id, "cast", expected=("approved", "scheduled"))
            except (StewardError, LockHeld) as exc:
                if report is not None:
                    report.errors.append(f"reconcile {intent.proposal_uid}: {exc}")
        return settled

    def _in_scope(self, delegate: DelegateSettings, only: list[str] | None) -> list[Proposal]:
        out: list[Proposal] = []
        for space in [*delegate.spaces, *delegate.governors]:
            for p in self.store.proposals(space=space, uids=only):
                if p.is_open and not p.flagged:
                    out.append(p)
        return out
