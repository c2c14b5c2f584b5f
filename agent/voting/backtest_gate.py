"""The backtest gate: auto mode votes only with a recent passing track record.

The record must be of the very analyst, prompt and policy that will vote (matched by
their hashes), against the delegate's own votes or the address they name, and meet
the delegate's thresholds. Pure: the caller looks the record up (`store.latest_backtest`).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from agent.backtest.metrics import ChoiceScore, Metrics
from agent.settings import DelegateSettings
from agent.store.backtests import BacktestRecord


class TrackRecord(BaseModel):
    """What the person approving, and the gate, see about how this analyst has done."""

    model_config = ConfigDict(frozen=True)
    voter: str
    found: bool
    passed: bool
    detail: str
    n: int = 0
    coverage: float | None = None
    agreement: float | None = None
    kappa: float | None = None
    against_recall: float | None = None
    age_d: float | None = None
    backtest_id: int | None = None

    def line(self) -> str:
        """One line for people (CLI, Discord)."""
        if not self.found:
            return f"track record: none ({self.detail})"
        kappa = "n/a" if self.kappa is None else f"{self.kappa:.2f}"
        agreement = "n/a" if self.agreement is None else f"{self.agreement:.0%}"
        coverage = "n/a" if self.coverage is None else f"{self.coverage:.0%}"
        verdict = "passes" if self.passed else "does not pass"
        return (
            f"track record vs {self.voter[:10]}…: agreed {agreement} of {self.n} past votes "
            f"(coverage {coverage}, κ {kappa}), {self.age_d:.0f} d old; {verdict}: {self.detail}"
        )


def voter_of(delegate: DelegateSettings) -> str:
    return delegate.backtest_voter or delegate.address


def evaluate(
    delegate: DelegateSettings, record: BacktestRecord | None, *, now: datetime
) -> TrackRecord:
    voter = voter_of(delegate)
    if record is None:
        return TrackRecord(
            voter=voter,
            found=False,
            passed=False,
            detail=f"no backtest of this analyst, prompt and policy against {voter}: "
            f"run `steward backtest --voter {voter}`",
        )
    age = (now - record.created).total_seconds() / 86400
    against = _against(record)
    problems = []
    if record.n < delegate.min_backtest_n:
        problems.append(f"n {record.n} < {delegate.min_backtest_n}")
    if record.kappa is None or record.kappa < delegate.min_backtest_kappa:
        shown = "undefined" if record.kappa is None else f"{record.kappa:.2f}"
        problems.append(f"κ {shown} < {delegate.min_backtest_kappa:.2f}")
    if age > delegate.max_backtest_age_d:
        problems.append(f"{age:.0f} d old > {delegate.max_backtest_age_d:.0f} d")
    return TrackRecord(
        voter=voter,
        found=True,
        passed=not problems,
        detail="; ".join(problems) or "meets the delegate's thresholds",
        n=record.n,
        coverage=record.coverage,
        agreement=record.agreement,
        kappa=record.kappa,
        against_recall=against.recall if against else None,
        age_d=age,
        backtest_id=record.id,
    )


def _against(record: BacktestRecord) -> ChoiceScore | None:
    """The stored report's AGAINST figures, read through its model (None when a report
    kept before `steward` figures existed, or holds none for AGAINST)."""
    steward = record.data.get("steward")
    if not steward:
        return None
    return Metrics.model_validate(steward).per_choice.get("AGAINST")
