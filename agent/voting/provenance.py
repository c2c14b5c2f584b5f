"""What a vote rests on, frozen into one bundle whose hash travels with the vote.

The bundle names the exact proposal version, policy, analyst and prompt, keeps
the assessment as stored, and records the decision and every guardrail result.
Its hash ends the public vote reason, so anyone holding the exported bundle can
check that this vote came from this reasoning.

Proposal text is untrusted: the reason is assembled only from our own
structured fields (recommendation, confidence, ids matching a strict token
shape), never from proposal text or model prose, which could carry an injection
or a ping.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from agent.models import Proposal
from agent.records.assessment import Assessment, Recommendation
from agent.voting.canonical import sha256_hex

PROVENANCE_PREFIX = "steward-provenance:sha256:"
SUFFIX_LEN = 1 + len(PROVENANCE_PREFIX) + 64
"""What `vote_reason` adds after the rationale: a space and the provenance tag."""
_TOKEN = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,63}$")
_STANCE_FOR: dict[str, str] = {"FOR": "supports", "AGAINST": "conflicts"}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProposalVersion(_Frozen):
    """The proposal as it was when the decision was made."""

    content_hash: str
    state: str
    updated: datetime | None


class PolicyRef(_Frozen):
    id: str
    hash: str


class AnalystRef(_Frozen):
    id: str
    prompt_hash: str


class Decision(_Frozen):
    recommendation: Recommendation
    choice_label: str | None
    """The proposal's own label (untrusted text: kept here, never put in a reason)."""
    choice_index: int | None
    """What the vote sends: Snapshot's 1-based choice number, a Governor's support value."""
    confidence: float = Field(ge=0.0, le=1.0)


class GuardrailResult(_Frozen):
    name: str
    passed: bool
    detail: str = ""


class VoteBundle(_Frozen):
    """Everything one vote rests on; `provenance_hash` is computed over all of it."""

    format: Literal[1] = 1
    proposal_uid: str
    proposal: ProposalVersion
    policy: PolicyRef
    analyst: AnalystRef
    assessment: dict[str, Any]
    """The assessment's JSON exactly as the record store holds it."""
    decision: Decision
    guardrails: list[GuardrailResult]
    action_flags: list[str] = Field(default_factory=list)
    """Flags from decoded on-chain actions (e.g. `upgrade`, `treasury_transfer`)."""
    simulation_hash: str | None = Field(default=None, exclude_if=lambda v: v is None)
    """The fork simulation report the hard rules read; left out when there was none, so
    bundles made before simulations existed keep their hash."""
    created: AwareDatetime


def build_bundle(
    assessment: Assessment,
    proposal: Proposal,
    decision: Decision,
    guardrails: Iterable[GuardrailResult],
    *,
    action_flags: Iterable[str] = (),
    created: datetime | None = None,
) -> VoteBundle:
    """The bundle for voting `decision` on `proposal` on the strength of `assessment`."""
    if assessment.proposal_uid != proposal.uid:
        raise ValueError(f"assessment of {assessment.proposal_uid} given for {proposal.uid}")
    p = assessment.provenance
    return VoteBundle(
        proposal_uid=proposal.uid,
        proposal=ProposalVersion(
            content_hash=proposal.content_hash, state=proposal.state, updated=proposal.updated
        ),
        policy=PolicyRef(id=assessment.policy_id, hash=p.policy_hash),
        analyst=AnalystRef(id=p.analyst, prompt_hash=p.prompt_hash),
        assessment=assessment.model_dump(mode="json"),
        decision=decision,
        guardrails=list(guardrails),
        action_flags=list(action_flags),
        simulation_hash=p.simulation_hash,
        created=created or datetime.now(UTC),
    )


def bundle_json(bundle: VoteBundle) -> dict[str, Any]:
    """The bundle as stored and hashed."""
    return bundle.model_dump(mode="json")


def provenance_hash(bundle: VoteBundle | dict[str, Any]) -> str:
    """SHA-256 over the bundle's canonical JSON (a stored dict hashes as stored)."""
    return sha256_hex(bundle if isinstance(bundle, dict) else bundle_json(bundle))


def provenance_tag(digest: str) -> str:
    return f"{PROVENANCE_PREFIX}{digest}"


def vote_reason(assessment: Assessment, bundle: VoteBundle, max_len: int = 280) -> str:
    """A short public rationale (≤ `max_len`) followed by the provenance tag.

    Built from the decision, the policy and principle ids, failed hard-rule
    names, injection findings and decoded-action flags; any id that is not a
    plain token is left out rather than quoted.
    """
    d = bundle.decision
    parts = [
        f"Steward votes {d.recommendation} ({round(d.confidence * 100)}% confidence)"
        + (f" under policy {bundle.policy.id}" if _TOKEN.match(bundle.policy.id) else "")
    ]
    principles = _resting_on(assessment, d.recommendation)
    if principles:
        parts.append("rests on " + ", ".join(principles[:3]))
    failed = _tokens(r.rule for r in assessment.hard_rules if r.outcome == "fail")
    if failed:
        parts.append("hard rules failed: " + ", ".join(failed[:3]))
    if assessment.injection:
        parts.append("proposal text flagged for injected instructions")
    flags = _tokens(bundle.action_flags)
    if flags:
        parts.append("action flags: " + ", ".join(flags[:4]))
    return f"{_fit(parts, max_len)} {provenance_tag(provenance_hash(bundle))}"


def _resting_on(assessment: Assessment, recommendation: str) -> list[str]:
    stance = _STANCE_FOR.get(recommendation)
    return _tokens(f.principle_id for f in assessment.findings if f.stance == stance)


def _tokens(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if _TOKEN.match(v)))


def _fit(parts: list[str], max_len: int) -> str:
    """Join the parts, dropping the least important (last) ones until it fits."""
    while len(parts) > 1 and len("; ".join(parts)) + 1 > max_len:
        parts = parts[:-1]
    text = "; ".join(parts) + "."
    return text if len(text) <= max_len else text[: max_len - 1] + "…"
