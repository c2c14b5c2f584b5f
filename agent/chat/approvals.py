"""The message under which a delegate approves or vetoes Steward's vote, as plain data.

One builder serves every state of a decision: the message is posted while the
decision waits for a human and edited, with the same builder, once it moves on
(approved, vetoed, cast, expired…). The proposal's title, choices and flags are
written by anyone, so they pass through `safe` like every other untrusted string.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from agent.chat.models import EMBED_TOTAL_LIMIT, Embed, EmbedField, Message
from agent.chat.text import embed_url, plain, safe, stamp, truncate
from agent.digest.render import conf
from agent.models import Proposal
from agent.records.decision import Decision, DecisionStatus
from agent.settings import DelegateSettings
from agent.voting.guardrails import timing

_COLOUR = {"FOR": 0x2ECC71, "AGAINST": 0xE74C3C, "ABSTAIN": 0x95A5A6, "NONE": 0x5865F2}
_SETTLED = 0x4F545C
_ICON = {"FOR": "🟢", "AGAINST": "🔴", "ABSTAIN": "⚪", "NONE": "❔"}
_SEVERITY = {"high": "🔴", "warn": "🟠", "info": "🔵"}
_DISCORD_USER = re.compile(r"^discord:(\d{15,21})$")
_MAX_FLAGS = 8
SUMMARY_LIMIT = 1500
WORDS: dict[DecisionStatus, str] = {
    "awaiting_approval": "waiting for approval",
    "approved": "approved",
    "vetoed": "vetoed",
    "scheduled": "scheduled to be cast",
    "dry_run": "a dry run",
    "blocked": "blocked",
    "cast": "cast",
    "superseded": "superseded",
    "expired": "expired",
}
"""How a status reads in a sentence ("This vote is already …")."""


def answer_deadline(
    decision: Decision, delegate: DelegateSettings | None, proposal: Proposal | None
) -> datetime | None:
    """When a human answer stops mattering: the veto window's end for a scheduled vote,
    the last moment to cast for one waiting for approval (the loop expires it then)."""
    if decision.status == "scheduled" and decision.cast_after_ts:
        return datetime.fromtimestamp(decision.cast_after_ts, UTC)
    if delegate is None or proposal is None:
        return None
    window = timing(delegate, proposal)
    return window.cast_until if window else None


def approval_message(
    decision: Decision, proposal: Proposal | None, *, deadline: datetime | None
) -> Message:
    """The decision as it stands: a status line over the proposal and Steward's reasoning."""
    return Message(
        content=status_line(decision, deadline), embeds=[_embed(decision, proposal, deadline)]
    )


def status_line(decision: Decision, deadline: datetime | None) -> str:
    """One line saying what happens next (or what happened), for the message's content."""
    vote = _vote(decision)
    who = _who(decision.decided_by)
    when = f" {stamp(deadline)}" if deadline else ""
    lines: dict[DecisionStatus, str] = {
        "awaiting_approval": f"🙋 **Approval needed** for delegate `{decision.delegate}`: "
        f"Steward would vote {vote}. Nothing is cast without an approval"
        + (f"; answer before {stamp(deadline, 'f')} ({stamp(deadline)})." if deadline else "."),
        "scheduled": f"⏳ **Vote scheduled** for delegate `{decision.delegate}`: "
        f"Steward will vote {vote}{when} unless vetoed.",
        "approved": f"✅ **Approved** by {who}: Steward will cast {vote} in the voting window.",
        "vetoed": f"🛑 **Vetoed** by {who}: no vote will be cast.",
        "cast": f"🗳️ **Vote cast**: {vote}.",
        "expired": "⌛ **Expired**: no answer before the deadline, so no vote was cast.",
        "superseded": "♻️ **Superseded**: the proposal changed; a new recommendation follows.",
        "blocked": f"⛔ **Blocked**: {_blockers(decision)}; no vote was cast.",
        "dry_run": f"🧪 **Dry run**: Steward would vote {vote}; nothing is cast.",
    }
    return truncate(lines[decision.status], 2000)


def already_message(status: DecisionStatus) -> Message:
    """The private answer to a button pressed after the decision moved on."""
    return Message(content=f"This vote is already {WORDS[status]}.", ephemeral=True)


def pause_message(by: str, note: str | None) -> Message:
    """/pause's public answer: everyone in the channel should know casting stopped."""
    why = f" Note: {safe(note, 200)}" if note else ""
    return Message(
        content=f"⏸️ **Voting paused** by {_who(by)}: no vote is cast until /resume.{why}"
    )


def resume_message(resumed: bool, by: str) -> Message:
    if not resumed:
        return Message(content="Voting was not paused.", ephemeral=True)
    return Message(content=f"▶️ **Voting resumed** by {_who(by)}: votes are cast again.")


# ---- pieces -------------------------------------------------------------------------
def _embed(decision: Decision, proposal: Proposal | None, deadline: datetime | None) -> Embed:
    recommendation = decision.data.recommendation or ""
    fields = [EmbedField(name="Recommendation", value=_recommendation(decision))]
    track = decision.data.track_record
    if track is not None:
        fields.append(EmbedField(name="Track record", value=truncate(_track(track), 1024)))
    flags = _flags(proposal.extra.action_flags if proposal else None)
    if flags:
        fields.append(EmbedField(name="Decoded action flags", value=truncate(flags, 1024)))
    if deadline and decision.status in ("awaiting_approval", "scheduled"):
        verb = "Approve before" if decision.status == "awaiting_approval" else "Veto before"
        fields.append(EmbedField(name="Deadline", value=f"{verb} {stamp(deadline, 'f')}"))
    digest = re.sub(r"[^0-9A-Za-z:]", "", decision.data.provenance_hash or "")
    if digest:
        fields.append(EmbedField(name="Provenance", value=f"`sha256:{digest[:80]}`"))
    title = safe(proposal.title, 256) if proposal else ""
    footer = plain(f"{decision.proposal_uid} · decision {decision.id}", 300)
    used = len(title) + len(footer) + sum(len(f.name) + len(f.value) for f in fields)
    budget = min(SUMMARY_LIMIT, EMBED_TOTAL_LIMIT - used - 10)
    summary = decision.data.summary or ""
    live = decision.status in ("awaiting_approval", "scheduled", "approved")
    return Embed(
        title=title or "(proposal not stored)",
        url=embed_url(proposal.link) if proposal else None,
        description=safe(summary, budget, multiline=True) if summary and budget > 1 else "",
        colour=_COLOUR.get(recommendation, _SETTLED) if live else _SETTLED,
        fields=fields,
        footer=footer,
    )


def _track(track: dict[str, object]) -> str:
    """How often this analyst agreed with the voter before (its latest backtest)."""
    from agent.voting.backtest_gate import TrackRecord

    try:
        return safe(TrackRecord.model_validate(track).line(), 1000)
    except ValueError:
        return "unreadable track record"


def _recommendation(decision: Decision) -> str:
    recommendation = decision.data.recommendation or ""
    icon = _ICON.get(recommendation, "❔")
    text = f"{icon} **{safe(recommendation, 20) or 'none'}**"
    if decision.choice_label:
        text += f" · vote “{safe(decision.choice_label, 100)}”"
    return f"{text} · {conf(decision.confidence)} confident"


def _vote(decision: Decision) -> str:
    if decision.choice_label:
        return f"“{safe(decision.choice_label, 100)}”"
    return f"**{safe(decision.data.recommendation or 'no choice', 20)}**"


def _who(by: str | None) -> str:
    """A Discord user as a mention (it shows their name; messages never ping), else text."""
    if by is None:
        return "someone"
    found = _DISCORD_USER.match(by)
    return f"<@{found.group(1)}>" if found else safe(by, 80)


def _blockers(decision: Decision) -> str:
    codes = [b.code for b in decision.data.blockers]
    return safe(", ".join(c.replace("_", " ") for c in codes), 300) or "a guardrail stopped it"


def _flags(raw: Any) -> str:
    """Decoded-action flags (`agent.decode.actions_extra`): severity, kind, action, detail."""
    if not isinstance(raw, list):
        return ""
    lines = []
    for flag in [f for f in raw if isinstance(f, dict)][:_MAX_FLAGS]:
        icon = _SEVERITY.get(str(flag.get("severity")), "•")
        kind = re.sub(r"[^a-z_]", "", str(flag.get("kind"))).replace("_", " ") or "flag"
        action = re.sub(r"[^0-9.]", "", str(flag.get("action") or ""))[:20]
        where = f" (action {action})" if action else ""
        detail = safe(str(flag.get("detail") or ""), 160)  # token symbols come from chain
        lines.append(f"{icon} **{kind}**{where}: {detail}")
    if len(raw) > _MAX_FLAGS:
        lines.append(f"…and {len(raw) - _MAX_FLAGS} more")
    return "\n".join(lines)
