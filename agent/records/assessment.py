"""The assessment of one proposal against one policy, and what it is built from.

An assessment is the only thing later steps (digest, Discord, voting) read, so
it carries its own provenance: which analyst, prompt, policy and proposal
version produced it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Recommendation = Literal["FOR", "AGAINST", "ABSTAIN", "NONE"]
"""`NONE` is "no recommendation": the evidence is too thin or split to say. Not a vote:
ABSTAIN is a choice a delegate can cast, NONE leaves the decision to a person."""
Position = Literal["FOR", "AGAINST", "ABSTAIN"]
Stance = Literal["supports", "conflicts", "not_relevant"]
Category = Literal[
    "treasury",
    "grants",
    "protocol",
    "governance",
    "pricing",
    "elections",
    "security",
    "constitution",
    "other",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Amount(_Frozen):
    """A quantity the proposal mentions, in human units."""

    value: float
    unit: str
    """Token symbol or currency as written (ETH, USDC, ENS, USD, …)."""
    text: str
    """The exact words in the proposal."""


class Facts(_Frozen):
    """What is asked, pulled out of the proposal text (and decoded actions)."""

    amounts: list[Amount] = Field(default_factory=list)
    addresses: list[str] = Field(default_factory=list)
    ens_names: list[str] = Field(default_factory=list)
    durations: list[str] = Field(default_factory=list)
    links: list[str] = Field(default_factory=list)
    milestones: list[str] = Field(default_factory=list)


class InjectionFinding(_Frozen):
    """Instruction-like content in untrusted proposal text."""

    kind: Literal[
        "instruction_to_model",
        "hidden_unicode",
        "html_comment",
        "fake_system_message",
        "addressed_to_ai",
        "hidden_markup",
    ]
    excerpt: str
    """A short, printable excerpt (hidden characters shown as <U+XXXX>)."""


class PrincipleFinding(_Frozen):
    principle_id: str
    stance: Stance
    evidence: str = ""
    """A verbatim quote from the proposal; empty only when not relevant."""
    rationale: str


class HardRuleResult(_Frozen):
    rule: str
    outcome: Literal["pass", "fail", "not_applicable"]
    detail: str
    on_fail: Recommendation | None = None
    """What the rule forces when it fails (AGAINST or ABSTAIN)."""


class Precedent(_Frozen):
    """Evidence the precedent analyst cites: an earlier proposal and how it went."""

    uid: str
    title: str
    space: str
    similarity: float
    kind: Literal["vote", "outcome"]
    """`vote`: the voter's own vote on it; `outcome`: the DAO's result."""
    position: Position
    at: datetime
    """When the vote was cast, or when voting on the precedent ended."""
    weight: float = 0.0
    link: str | None = None


class Provenance(_Frozen):
    analyst: str
    """`offline` or the model's name (`openai:gpt-4o-mini`)."""
    prompt_hash: str
    policy_hash: str
    content_hash: str
    created: datetime
    simulation_hash: str | None = None
    """The fork simulation report the hard rules read (None: none existed)."""


class Assessment(_Frozen):
    proposal_uid: str
    policy_id: str
    summary: str
    facts: Facts
    category: Category
    findings: list[PrincipleFinding]
    hard_rules: list[HardRuleResult]
    injection: list[InjectionFinding] = Field(default_factory=list)
    risk_flags: list[str] = Field(default_factory=list)
    recommendation: Recommendation
    choice: str | None
    """The proposal's own choice label the recommendation maps to (None: no such choice)."""
    confidence: float = Field(ge=0.0, le=1.0)
    escalate: bool = False
    escalation_reasons: list[str] = Field(default_factory=list)
    dropped_findings: int = 0
    """Findings whose evidence quote was not verbatim in the proposal."""
    rationale: str = ""
    precedents: list[Precedent] = Field(default_factory=list)
    """What a precedent-based recommendation rests on (empty for other analysts)."""
    provenance: Provenance

    @property
    def cache_key(self) -> tuple[str, str, str, str, str]:
        p = self.provenance
        return (self.proposal_uid, p.content_hash, p.policy_hash, p.analyst, p.prompt_hash)


class Draft(BaseModel):
    """An analyst's judgement before code applies the guardrails.

    This is also the structured output asked of an LLM: every field is
    something a model may get wrong, and `finalise` checks what it can.
    """

    model_config = ConfigDict(extra="ignore")

    summary: str = Field(description="3-5 plain sentences: what is asked, by whom, why, cost.")
    category: Category = Field(description="The proposal's main subject.")
    findings: list[PrincipleFinding] = Field(
        description="One finding per policy principle, with a verbatim quote as evidence."
    )
    risk_flags: list[str] = Field(
        default_factory=list, description="Short phrases: what a delegate must look at."
    )
    recommendation: Recommendation = Field(
        description="FOR, AGAINST or ABSTAIN (NONE: no recommendation, evidence too thin)."
    )
    confidence: float = Field(ge=0.0, le=1.0, description="0-1: how sure, given the evidence.")
    rationale: str = Field(default="", description="Two sentences: why this recommendation.")
    precedents: list[Precedent] = Field(
        default_factory=list, description="Set by code only (the precedent analyst)."
    )
