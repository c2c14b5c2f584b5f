"""Reading a stored vote's choice as labelled shares of its voting power.

Snapshot numbers choices from 1 (single-choice, approval and ranked lists, weighted
and quadratic maps); Governor votes are stored the same way (1 For, 2 Against,
3 Abstain). Anything unreadable is kept as its own label, never dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def label(choice: Any, choices: Sequence[str]) -> str:
    """One readable label for any stored choice (lists and maps joined)."""
    if isinstance(choice, bool):
        return str(choice)
    if isinstance(choice, int):
        return _name(choice, choices)
    if isinstance(choice, str) and choice.isdigit():
        return _name(int(choice), choices)
    if isinstance(choice, list):
        return " + ".join(label(c, choices) for c in choice) or "(none)"
    if isinstance(choice, dict):
        return " + ".join(f"{label(k, choices)} {v}" for k, v in choice.items()) or "(none)"
    return str(choice)


def allocation(
    choice: Any, power: float, choices: Sequence[str], kind: str | None = None
) -> dict[str, float]:
    """How a vote's power is counted per choice label.

    Ranked-choice votes count for their first preference only: enough to say which
    choice leads, which is what the concentration figures need.
    """
    if isinstance(choice, list):
        picked = [label(c, choices) for c in choice]
        if kind == "ranked-choice":
            picked = picked[:1]
        return {name: power for name in picked}  # approval: full power to each
    if isinstance(choice, dict):
        weights = {label(k, choices): _number(v) for k, v in choice.items()}
        total = sum(w for w in weights.values() if w > 0)
        if total <= 0:
            return {}
        return {k: power * w / total for k, w in weights.items() if w > 0}
    return {label(choice, choices): power}


def _name(index: int, choices: Sequence[str]) -> str:
    return choices[index - 1] if 1 <= index <= len(choices) else f"choice {index}"


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0
