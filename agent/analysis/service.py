"""Analyse a proposal against a policy: reuse, or run the analyst under the guardrails.

An assessment is reused until the proposal's content, the policy, the prompt
or the analyst changes; the outcome says which, so `steward analyze` can too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict

from agent.analysis.decide import finalise
from agent.analysis.facts import extract_facts
from agent.analysis.injection import detect_injection
from agent.analysis.policy import Policy
from agent.analysis.rules import evaluate_hard_rules
from agent.errors import StewardError
from agent.models import Proposal
from agent.records.assessment import Assessment, Draft, Facts, HardRuleResult
from agent.records.simulation import SimulationReport
from agent.simulate.flows import current_flows, escalations, summary
from agent.store import RecordStore


class AnalysisError(StewardError):
    """The analyst could not produce a valid assessment (after retries). Never guessed."""


class Analyst(Protocol):
    id: str
    prompt_hash: str

    def draft(
        self, proposal: Proposal, policy: Policy, facts: Facts, hard_rules: list[HardRuleResult]
    ) -> Draft: ...


class AnalysisOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)
    assessment: Assessment
    status: Literal["cached", "new", "refreshed"]
    reason: str


class _Identity(BaseModel):
    """Who analysed: the analyst's id and its prompt identity (cap included)."""

    id: str
    prompt_hash: str


def _prompt_identity(prompt_hash: str, confidence_cap: float) -> str:
    """The prompt hash folded with the cap: changing the cap must re-analyse too."""
    if confidence_cap >= 1.0:
        return prompt_hash
    return hashlib.sha256(f"{prompt_hash}:cap={confidence_cap}".encode()).hexdigest()


def staleness(
    previous: Assessment,
    proposal: Proposal,
    policy: Policy,
    analyst: Analyst | _Identity,
    simulation_hash: str | None = None,
) -> str | None:
    """Why `previous` no longer holds, or None if it does."""
    p = previous.provenance
    if p.content_hash != proposal.content_hash:
        return "the proposal's content changed"
    if p.policy_hash != policy.hash:
        return "the policy changed"
    if p.analyst != analyst.id:
        return f"the analyst changed ({p.analyst} → {analyst.id})"
    if p.prompt_hash != analyst.prompt_hash:
        return "the prompt changed"
    if simulation_hash is not None and p.simulation_hash != simulation_hash:
        return "a new simulation of the proposal"
    return None


def analyse(
    proposal: Proposal,
    policy: Policy,
    analyst: Analyst,
    store: RecordStore,
    *,
    confidence_cap: float = 1.0,
    force: bool = False,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    cache_key: str | None = None,
) -> AnalysisOutcome:
    """`cache_key`: keep this assessment apart from the live one (a backtest's), stored and
    looked up under that key instead of the policy's id."""
    identity = _Identity(
        id=analyst.id, prompt_hash=_prompt_identity(analyst.prompt_hash, confidence_cap)
    )
    previous = store.latest_assessment(proposal.uid, cache_key or policy.id)
    report = store.latest_simulation(proposal.uid)
    simulated = current_flows(report, proposal.content_hash)
    sim_hash = simulated.report_hash if simulated else None
    reason = "first analysis"
    if previous is not None:
        why = staleness(previous, proposal, policy, identity, sim_hash)
        if why is None and not force:
            return AnalysisOutcome(
                assessment=previous,
                status="cached",
                reason="nothing changed since the last analysis",
            )
        reason = why or "re-analysis forced"
    injection = detect_injection(f"{proposal.title}\n{proposal.body}")
    facts = extract_facts(f"{proposal.title}\n\n{proposal.body}")
    hard_rules = evaluate_hard_rules(policy, proposal, facts, simulated)
    draft = analyst.draft(with_simulation(proposal, report), policy, facts, hard_rules)
    assessment = finalise(
        draft,
        proposal=proposal,
        policy=policy,
        facts=facts,
        hard_rules=hard_rules,
        injection=injection,
        analyst=analyst.id,
        prompt_hash=identity.prompt_hash,
        confidence_cap=confidence_cap,
        now=now(),
        extra_reasons=escalations(report, proposal.content_hash),
        simulation_hash=sim_hash,
    )
    if cache_key:
        assessment = assessment.model_copy(update={"policy_id": cache_key})
    store.save_assessment(assessment)
    status: Literal["new", "refreshed"] = "new" if previous is None else "refreshed"
    return AnalysisOutcome(assessment=assessment, status=status, reason=reason)


def with_simulation(proposal: Proposal, report: SimulationReport | None) -> Proposal:
    """The proposal with a one-line simulation summary in `extra` for the analyst's prompt
    (only a report of this version counts); the stored proposal is left as it is."""
    if report is None or report.content_hash != proposal.content_hash:
        return proposal
    line = summary(report, set(report.dao) or None)
    extra = proposal.extra.model_copy(update={"simulation_summary": line})
    return proposal.model_copy(update={"extra": extra})
