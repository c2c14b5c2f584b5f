"""Replay an analyst over one address's votes, oldest first, seeing only the past.

For each proposal the analyst gets a blinded copy (no state, tally or outcome) and
any evidence it reads goes through an as-of view cut at the proposal's creation.
Assessments are cached under a backtest key, never the live assessment's.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import UTC, datetime

from agent.analysis.outcomes import outcome_position, vote_position
from agent.analysis.policy import Policy
from agent.analysis.service import Analyst, analyse
from agent.backtest.metrics import flip_rate, score
from agent.backtest.models import BacktestReport, Case, Identity
from agent.errors import NotFound
from agent.models import Proposal, ProposalExtra
from agent.records.assessment import Position
from agent.store import RecordStore

_RESULT_KEYS = ("voter_counts",)


def blind(p: Proposal) -> Proposal:
    """The proposal as it looked when it opened: no state, tally, outcome or vote counts."""
    kept = {k: v for k, v in p.extra.model_dump().items() if k not in _RESULT_KEYS}
    extra = ProposalExtra.model_validate(kept)
    return p.model_copy(
        update={
            "state": "active",
            "outcome": None,
            "scores": [],
            "scores_total": None,
            "scores_final": False,
            "votes_count": 0,
            "extra": extra,
        }
    )


def cache_key(analyst_id: str, voter: str, policy: Policy) -> str:
    """Where a backtest's assessments live: never the policy id the live ones use."""
    digest = hashlib.sha256(f"{analyst_id}|{voter.lower()}|{policy.id}".encode()).hexdigest()
    return f"backtest:{digest[:16]}:{policy.id}"[:100]


def backtest(
    store: RecordStore,
    *,
    voter: str,
    policy: Policy,
    analyst: Analyst,
    space: str | None = None,
    since: datetime | None = None,
    limit: int | None = None,
    repeat: int = 1,
    refresh: bool = False,
    before_each: Callable[[Proposal], None] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> BacktestReport:
    """Every proposal `voter` voted on (in `space`, from `since`; the latest `limit`)."""
    votes = store.votes_by(voter, space=space)
    if not votes:
        where = f" in space {space!r}" if space else ""
        raise NotFound(f"no stored votes by {voter}{where}: ingest that space's votes first")
    proposals = {p.uid: p for p in store.proposals(uids=[v.proposal_uid for v in votes])}
    pending: list[tuple[Proposal, Position, str, str]] = []
    skipped = 0
    for vote in votes:
        p = proposals.get(vote.proposal_uid)
        position = vote_position(p, vote.choice, policy.choices) if p else None
        if p is None or p.created is None or position is None:
            skipped += 1
            continue
        if since is None or p.created >= since:
            pending.append((p, position, vote.reason, vote.id))
    pending.sort(key=lambda x: x[0].created or datetime.min)
    if limit:
        pending = pending[-limit:]
    if not pending:
        raise NotFound(f"none of {voter}'s {len(votes)} stored vote(s) fit the filters given")
    # An analyst that reads the voter's votes (precedent) is cached per voter; others once.
    key = cache_key(analyst.id, voter if getattr(analyst, "voter", None) else "", policy)
    cases: list[Case] = []
    started = time.perf_counter()
    for p, position, reason, vote_id in pending:
        runs = []
        assessment = None
        for run in range(max(1, repeat)):
            if before_each:
                before_each(p)
            outcome = analyse(
                blind(p), policy, analyst, store, force=refresh or run > 0, cache_key=key
            )
            assessment = assessment or outcome.assessment
            runs.append(outcome.assessment.recommendation)
        assert assessment is not None
        cases.append(
            Case(
                uid=p.uid,
                title=p.title,
                space=p.space,
                created=p.created or now(),
                link=p.link or p.discussion or _tx_link(p),
                actual=position,
                vote_reason=reason,
                vote_id=vote_id,
                recommendation=assessment.recommendation,
                confidence=assessment.confidence,
                reason="; ".join(
                    [assessment.rationale]
                    + [r for r in assessment.escalation_reasons if r.startswith("hard rule")]
                ).strip("; "),
                precedents=assessment.precedents,
                runs=runs,
                outcome=outcome_position(p, policy.choices),
            )
        )
    elapsed = time.perf_counter() - started
    actual = [c.actual for c in cases]
    return BacktestReport(
        voter=voter,
        space=space,
        since=since,
        identity=Identity(
            analyst=analyst.id,
            prompt_hash=analyst.prompt_hash,
            policy_id=policy.id,
            policy_hash=policy.hash,
        ),
        created=now(),
        n=len(cases),
        skipped=skipped,
        steward=score(actual, [c.recommendation for c in cases], [c.confidence for c in cases]),
        always_for=score(actual, ["FOR"] * len(cases)),
        outcome=score(actual, [c.outcome or "NONE" for c in cases]),
        repeat=max(1, repeat),
        flip_rate=flip_rate([c.runs for c in cases]) if repeat > 1 else None,
        seconds_per_proposal=elapsed / len(cases),
        cases=cases,
    )


def _tx_link(p: Proposal) -> str | None:
    tx = p.extra.created_tx or p.extra.tx
    if p.extra.chain_id not in (None, 1):
        return None
    return f"https://etherscan.io/tx/{tx}" if isinstance(tx, str) and tx.startswith("0x") else None


def save(store: RecordStore, report: BacktestReport) -> int:
    """Keep the result (the gate for auto voting reads it back by identity)."""
    ident = report.identity
    return store.save_backtest(
        {
            "voter": report.voter,
            "space": report.space,
            "analyst": ident.analyst,
            "prompt_hash": ident.prompt_hash,
            "policy_id": ident.policy_id,
            "policy_hash": ident.policy_hash,
            "n": report.n,
            "coverage": report.steward.coverage,
            "agreement": report.steward.agreement,
            "kappa": report.steward.kappa,
        },
        report.model_dump(mode="json"),
        report.created,
    )
