"""Concentration figures in words: one line for every view, and the few-voters warning.

Plain text; each view escapes it its own way (Markdown, HTML, rich, Discord).
"""

from __future__ import annotations

from agent.voters.models import Concentration


def pct(value: float | None) -> str:
    if value is None:
        return "—"
    if 0 < value < 0.001:
        return "<0.1%"
    return f"{value:.0%}" if value in (0, 1) else f"{value:.1%}"


def concentration_line(c: Concentration) -> str:
    """`812 voters · top 1 31.2% · top 5 70.4% · top 10 84.0% · Nakamoto 3 · Gini 0.97`."""
    if c.note and c.nakamoto is None:
        return f"{c.voters} voter{'' if c.voters == 1 else 's'}: {c.note}"
    parts = [
        f"{c.voters} voter{'' if c.voters == 1 else 's'}",
        f"top 1 {pct(c.top1_share)}",
        f"top 5 {pct(c.top5_share)}",
        f"top 10 {pct(c.top10_share)}",
        f"Nakamoto {c.nakamoto}",
        f"Gini {c.gini:.2f}" if c.gini is not None else "Gini —",
    ]
    if c.zero_power_voters:
        parts.append(f"{c.zero_power_voters} with zero power")
    if c.flips_without_top_voter:
        parts.append("the lead flips without the top voter")
    return " · ".join(parts)


def few_voters_warning(c: Concentration) -> str | None:
    """The warning for an open vote that a handful of voters decide, else None."""
    if not c.few_decide or c.nakamoto is None:
        return None
    who = "1 voter holds" if c.nakamoto == 1 else f"{c.nakamoto} voters hold"
    text = f"Few voters decide: {who} a majority of the voting power cast so far"
    text += f" ({c.voters} voter{'' if c.voters == 1 else 's'} in all)"
    if c.flips_without_top_voter:
        text += "; without the largest voter the leading choice would change"
    return text + "."
