"""What a backtest reports: every case, the figures, the baselines, its identity."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from agent.backtest.metrics import Metrics
from agent.records.assessment import Position, Precedent, Recommendation


class Case(BaseModel):
    """One proposal the voter voted on, and what Steward said before it opened."""

    uid: str
    title: str
    space: str
    created: datetime
    link: str | None = None
    actual: Position
    vote_reason: str = ""
    vote_id: str = ""
    recommendation: Recommendation
    confidence: float
    reason: str = ""
    precedents: list[Precedent] = Field(default_factory=list)
    runs: list[Recommendation] = Field(default_factory=list)
    """With --repeat: every run's recommendation, the first one included."""
    outcome: Position | None = None
    """The DAO's final result (the outcome baseline; known only afterwards)."""


class Identity(BaseModel):
    """What was tested: the gate matches a live analyst against these hashes."""

    analyst: str
    prompt_hash: str
    policy_id: str
    policy_hash: str


class BacktestReport(BaseModel):
    voter: str
    space: str | None = None
    since: datetime | None = None
    identity: Identity
    created: datetime
    n: int
    skipped: int = 0
    """Votes left out: proposals without a creation time, or not single-choice votes."""
    steward: Metrics
    always_for: Metrics
    outcome: Metrics
    repeat: int = 1
    flip_rate: float | None = None
    seconds_per_proposal: float = 0.0
    cases: list[Case]

    @property
    def disagreements(self) -> list[Case]:
        return [c for c in self.cases if c.recommendation not in ("NONE", c.actual)]
