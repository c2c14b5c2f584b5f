"""From an analyst's draft to an assessment: the guardrails live here, in code.

Order matters: evidence is verified first (unverifiable findings are dropped),
then hard rules override, then injection caps everything at ABSTAIN. No model
output can lift a recommendation past these.
"""

from __future__ import annotations

import re
from datetime import datetime

from agent.analysis.policy import Policy
from agent.models import Proposal
from agent.records.assessment import (
    Assessment,
    Draft,
    Facts,
    HardRuleResult,
    InjectionFinding,
    PrincipleFinding,
    Provenance,
    Recommendation,
)

_WS = re.compile(r"\s+")
MIN_QUOTE_CHARS = 12


def _norm(text: str) -> str:
    return _WS.sub(" ", text).strip()


def verify_findings(
    findings: list[PrincipleFinding], proposal: Proposal, policy: Policy
) -> tuple[list[PrincipleFinding], int]:
    """Keep findings whose quote is verbatim in the proposal (whitespace aside)."""
    haystack = _norm(f"{proposal.title}\n{proposal.body}")
    kept, dropped = [], 0
    for finding in findings:
        if policy.principle(finding.principle_id) is None:
            dropped += 1
            continue
        if finding.stance == "not_relevant" and not finding.evidence.strip():
            kept.append(finding)
            continue
        quote = _norm(finding.evidence)
        if len(quote) >= MIN_QUOTE_CHARS and quote in haystack:
            kept.append(finding)
        else:
            dropped += 1
    return kept, dropped


def capping(injection: list[InjectionFinding]) -> bool:
    """Whether injection findings cap the recommendation at ABSTAIN.

    Every kind does, except HTML comments on their own: templates keep their
    guidance in comments (60% of Synthetix's SIPs), comments never reach a
    model (`neutralise` removes them), and a comment that carries instructions
    or addresses AI voters also triggers those kinds, which do cap.
    """
    return any(finding.kind != "html_comment" for finding in injection)


def choice_for(recommendation: Recommendation, proposal: Proposal, policy: Policy) -> str | None:
    """The proposal's own choice label that means `recommendation`, if it has one."""
    for choice in proposal.choices:
        if policy.choices.label_of(choice) == recommendation:
            return choice
    return None


def finalise(
    draft: Draft,
    *,
    proposal: Proposal,
    policy: Policy,
    facts: Facts,
    hard_rules: list[HardRuleResult],
    injection: list[InjectionFinding],
    analyst: str,
    prompt_hash: str,
    confidence_cap: float = 1.0,
    now: datetime,
    extra_reasons: list[str] | None = None,
    simulation_hash: str | None = None,
) -> Assessment:
    findings, dropped = verify_findings(draft.findings, proposal, policy)
    recommendation: Recommendation = draft.recommendation
    confidence = min(draft.confidence, confidence_cap)
    reasons: list[str] = []
    failed = [r for r in hard_rules if r.outcome == "fail"]
    if failed:
        abstain = any(r.on_fail == "ABSTAIN" for r in failed)
        forced: Recommendation = "ABSTAIN" if abstain else "AGAINST"
        recommendation = forced
        reasons += [f"hard rule {r.rule} failed: {r.detail}" for r in failed]
    if capping(injection):
        recommendation = "ABSTAIN"
        confidence = min(confidence, 0.5)
        reasons.append(f"instruction-like content in the proposal ({len(injection)} finding(s))")
    reasons += extra_reasons or []
    if dropped and not findings:
        reasons.append("no finding could be verified against the proposal text")
    if confidence < policy.escalate.confidence_below:
        reasons.append(f"confidence {confidence:.2f} below {policy.escalate.confidence_below}")
    if draft.category in policy.escalate.categories:
        reasons.append(f"category {draft.category} always goes to a human")
    stances = {f.stance for f in findings}
    if policy.escalate.on_conflicting_findings and {"supports", "conflicts"} <= stances:
        reasons.append("principles point both ways")
    if recommendation == "NONE":
        reasons.append("no recommendation: " + (draft.rationale or "the evidence is too thin"))
    choice = choice_for(recommendation, proposal, policy) if recommendation != "NONE" else None
    if recommendation not in ("ABSTAIN", "NONE") and proposal.choices and choice is None:
        reasons.append(f"no choice of this proposal means {recommendation}")
    return Assessment(
        proposal_uid=proposal.uid,
        policy_id=policy.id,
        summary=draft.summary.strip(),
        facts=facts,
        category=draft.category,
        findings=findings,
        hard_rules=hard_rules,
        injection=injection,
        risk_flags=list(dict.fromkeys(draft.risk_flags)),
        recommendation=recommendation,
        choice=choice,
        confidence=round(confidence, 3),
        escalate=bool(reasons),
        escalation_reasons=reasons,
        dropped_findings=dropped,
        rationale=draft.rationale.strip(),
        precedents=list(draft.precedents),
        provenance=Provenance(
            analyst=analyst,
            prompt_hash=prompt_hash,
            policy_hash=policy.hash,
            content_hash=proposal.content_hash,
            created=now,
            simulation_hash=simulation_hash,
        ),
    )
