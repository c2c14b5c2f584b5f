"""Agreement figures for recommendations against real votes. Pure functions.

Coverage is the share of proposals with a recommendation at all (NONE is none);
agreement, kappa and the calibration figures are over the covered ones; recall
counts a NONE as a miss (the delegate refused, Steward did not say so).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from pydantic import BaseModel

POSITIONS = ("FOR", "AGAINST", "ABSTAIN")
BANDS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0001)


class ChoiceScore(BaseModel):
    support: int
    """How often the voter chose it."""
    predicted: int
    precision: float | None
    recall: float | None


class Band(BaseModel):
    low: float
    high: float
    n: int
    mean_confidence: float | None
    agreement: float | None


class Metrics(BaseModel):
    n: int
    covered: int
    coverage: float | None
    agreement: float | None
    kappa: float | None
    """Cohen's kappa over covered cases; None when chance agreement is total."""
    per_choice: dict[str, ChoiceScore]
    confusion: dict[str, dict[str, int]]
    """confusion[actual][predicted], predicted including NONE."""
    brier: float | None = None
    reliability: list[Band] = []


def score(
    actual: Sequence[str], predicted: Sequence[str], confidence: Sequence[float] | None = None
) -> Metrics:
    n = len(actual)
    covered = [(a, p) for a, p in zip(actual, predicted, strict=True) if p != "NONE"]
    agree = sum(1 for a, p in covered if a == p)
    confusion = {a: {p: 0 for p in (*POSITIONS, "NONE")} for a in POSITIONS}
    for a, p in zip(actual, predicted, strict=True):
        confusion[a][p] += 1
    per_choice = {}
    for c in POSITIONS:
        support = sum(1 for a in actual if a == c)
        pred = sum(1 for p in predicted if p == c)
        hit = confusion[c][c]
        per_choice[c] = ChoiceScore(
            support=support,
            predicted=pred,
            precision=hit / pred if pred else None,
            recall=hit / support if support else None,
        )
    metrics = Metrics(
        n=n,
        covered=len(covered),
        coverage=len(covered) / n if n else None,
        agreement=agree / len(covered) if covered else None,
        kappa=kappa([a for a, _ in covered], [p for _, p in covered]),
        per_choice=per_choice,
        confusion=confusion,
    )
    if confidence is None:
        return metrics
    pairs = [
        (c, a == p) for a, p, c in zip(actual, predicted, confidence, strict=True) if p != "NONE"
    ]
    if pairs:
        metrics.brier = sum((c - float(ok)) ** 2 for c, ok in pairs) / len(pairs)
    metrics.reliability = reliability(pairs)
    return metrics


def kappa(actual: Sequence[str], predicted: Sequence[str]) -> float | None:
    n = len(actual)
    if not n:
        return None
    observed = sum(1 for a, p in zip(actual, predicted, strict=True) if a == p) / n
    labels = set(actual) | set(predicted)
    chance = sum((actual.count(k) / n) * (list(predicted).count(k) / n) for k in labels)
    if chance >= 1.0:
        return None
    return (observed - chance) / (1 - chance)


def reliability(pairs: Sequence[tuple[float, bool]]) -> list[Band]:
    """Confidence bands of 0.2: how often recommendations in each band were right."""
    out = []
    for low, high in itertools.pairwise(BANDS):
        inside = [(c, ok) for c, ok in pairs if low <= c < high]
        out.append(
            Band(
                low=low,
                high=min(high, 1.0),
                n=len(inside),
                mean_confidence=sum(c for c, _ in inside) / len(inside) if inside else None,
                agreement=sum(ok for _, ok in inside) / len(inside) if inside else None,
            )
        )
    return out


def flip_rate(runs: Sequence[Sequence[str]]) -> float | None:
    """Share of proposals whose recommendation was not the same in every run."""
    if not runs:
        return None
    return sum(1 for r in runs if len(set(r)) > 1) / len(runs)
