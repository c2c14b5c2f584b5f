"""What a proposal's result means as a position (FOR / AGAINST), from state, text or tally."""

from __future__ import annotations

import re

from agent.analysis.policy import ChoiceMap
from agent.models import Proposal
from agent.records.assessment import Position

_PASSED = re.compile(r"\b(pass(ed)?|executed|implemented|accepted|approved|succeeded|queued)\b")
_REJECTED = re.compile(r"\b(reject(ed)?|defeated|failed|quorum not reached)\b")
_STATE: dict[str, Position | None] = {
    "executed": "FOR",
    "queued": "FOR",
    "succeeded": "FOR",
    "defeated": "AGAINST",
    "canceled": None,
    "expired": None,
}


def outcome_position(p: Proposal, choices: ChoiceMap | None = None) -> Position | None:
    """FOR if it passed, AGAINST if it was voted down, None if unknown or withdrawn."""
    if p.state in _STATE:
        return _STATE[p.state]
    if p.outcome:
        text = p.outcome.strip().casefold()
        if _REJECTED.search(text):
            return "AGAINST"
        if _PASSED.search(text):
            return "FOR"
    if p.state == "closed" and p.scores and len(p.scores) == len(p.choices):
        best = max(p.scores)
        leaders = [c for c, s in zip(p.choices, p.scores, strict=True) if s == best]
        if len(leaders) == 1 and best > 0:
            label = (choices or ChoiceMap()).label_of(leaders[0])
            return label if label in ("FOR", "AGAINST") else None  # type: ignore[return-value]
    return None


def vote_position(p: Proposal, choice: object, choices: ChoiceMap | None = None) -> Position | None:
    """A single-choice vote (1-based index) as FOR / AGAINST / ABSTAIN; None otherwise."""
    if not isinstance(choice, int) or isinstance(choice, bool) or not 1 <= choice <= len(p.choices):
        return None
    label = (choices or ChoiceMap()).label_of(p.choices[choice - 1])
    return label if label in ("FOR", "AGAINST", "ABSTAIN") else None  # type: ignore[return-value]
