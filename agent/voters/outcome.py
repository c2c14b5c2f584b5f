"""What a result or a choice label means: passed (FOR) or not (AGAINST).

Shared by the digest (did the outcome match the recommendation?) and delegate
records (did the delegate vote with the outcome?).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from agent.models import Proposal

_PASSED = re.compile(r"\b(passed|approved|succeeded|executed|queued|adopted|accepted)\b", re.I)
_REJECTED = re.compile(r"\b(rejected|defeated|failed|vetoed|declined)\b", re.I)
_FOR_LABELS = {"for", "yes", "yae", "yea", "approve", "in favor", "in favour", "accept"}
_AGAINST_LABELS = {"against", "no", "nay", "reject", "deny"}
_STATE_VERDICT: dict[str, Literal["FOR", "AGAINST"]] = {
    "succeeded": "FOR",
    "queued": "FOR",
    "executed": "FOR",
    "defeated": "AGAINST",
}


def outcome_verdict(text: str) -> Literal["FOR", "AGAINST"] | None:
    """Whether a result or choice label means the proposal passed or not."""
    label = text.strip().casefold()
    if label in _FOR_LABELS or _PASSED.search(label):
        return "FOR"
    if label in _AGAINST_LABELS or _REJECTED.search(label) or label == "quorum not reached":
        return "AGAINST"
    return None


def winning_choice(p: Proposal) -> str | None:
    """The choice label that won an ended proposal, where the store can tell; else None.

    The source's stated outcome first, then a Governor's final state, then the tally.
    """
    if p.is_open or p.state == "canceled":
        return None
    if p.outcome:
        named = _choice_named(p.outcome, p.choices)
        if named:
            return named
        verdict = outcome_verdict(p.outcome)
        return _choice_for(verdict, p.choices) if verdict else None
    if p.state in _STATE_VERDICT:
        return _choice_for(_STATE_VERDICT[p.state], p.choices)
    scores = p.scores[: len(p.choices)]
    if not scores or max(scores) <= 0:
        return None
    leaders = [i for i, s in enumerate(scores) if s == max(scores)]
    return p.choices[leaders[0]] if len(leaders) == 1 else None


def _choice_named(text: str, choices: Sequence[str]) -> str | None:
    wanted = text.strip().casefold()
    return next((c for c in choices if c.strip().casefold() == wanted), None)


def _choice_for(verdict: str, choices: Sequence[str]) -> str | None:
    labels = _FOR_LABELS if verdict == "FOR" else _AGAINST_LABELS
    return next((c for c in choices if c.strip().casefold() in labels), None)
