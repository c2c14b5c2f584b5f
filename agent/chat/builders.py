"""Pure functions that turn stored data into Discord `Message`s.

Every string from a proposal, an analyst or a user goes through `safe` (or
`plain`), and every size is budgeted here, so a builder never produces a
message Discord would reject, whatever the input.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from agent.analysis.policy import Policy
from agent.chat.ask import Answer
from agent.chat.models import EMBED_TOTAL_LIMIT, Embed, EmbedField, Message
from agent.chat.text import embed_url, link, plain, safe, stamp, truncate
from agent.decode.stored import action_briefs
from agent.digest.build import Digest
from agent.digest.discord import split_for_discord
from agent.digest.render import bar, conf, left, num, share, to_markdown
from agent.models import Proposal
from agent.records.assessment import Assessment
from agent.store.records import StoredProposal

DESCRIPTION_LIMIT = 4096
_COLOUR = {"FOR": 0x2ECC71, "AGAINST": 0xE74C3C, "ABSTAIN": 0x95A5A6, "NONE": 0x5865F2}
_NEUTRAL = 0x5865F2
_ICON = {"FOR": "🟢", "AGAINST": "🔴", "ABSTAIN": "⚪", "NONE": "❔"}
_MAX_LINES = 6
_MAX_CHOICES = 8


def proposal_message(
    stored: StoredProposal,
    assessment: Assessment | None,
    votes_stored: int,
    who_decides: str | None = None,
    *,
    simulation: str | None = None,
) -> Message:
    """/proposal: everything a delegate needs to decide, in one embed (`who_decides`:
    the concentration field from `agent.chat.voters`)."""
    p = stored.proposal
    fields = [EmbedField(name="Recommendation", value=_recommendation(assessment, 400))]
    optional = [
        ("Flags", _lines(_flags(assessment), 200)),
        ("Decoded actions", _lines(action_briefs(p.extra), 200)),
        ("Simulation", simulation or ""),
        ("Tally so far" if p.is_open else "Tally", _tally(p, votes_stored)),
        ("Who decides", who_decides or ""),
        ("State", _timing(p)),
        ("Links", _links(p)),
    ]
    fields += [_field(name, value, 900) for name, value in optional if value]
    text = assessment.summary if assessment else p.body
    return Message(embeds=[_embed(p, fields, text, _colour(assessment))])


def proposals_page(
    proposals: list[Proposal], page: int, per_page: int = 10, *, total: int
) -> Message:
    """/proposals: one page of a listing (`proposals` is that page); footer `page 2/5`."""
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    pages = max(1, -(-max(total, 0) // per_page))
    page = min(max(page, 1), pages)
    footer = f"page {page}/{pages} · {total} proposal{'' if total == 1 else 's'}"
    shown = proposals[:per_page]
    if not shown:
        empty = Embed(title="Proposals", description="No stored proposals match.", footer=footer)
        return Message(embeds=[empty])
    budget = (DESCRIPTION_LIMIT - 2 * len(shown)) // len(shown)
    first = (page - 1) * per_page + 1
    lines = [_listing(n, p, budget) for n, p in enumerate(shown, first)]
    description = truncate("\n\n".join(lines), DESCRIPTION_LIMIT)
    return Message(embeds=[Embed(title="Proposals", description=description, footer=footer)])


def policy_message(policy: Policy, track_records: Sequence[str] = ()) -> Message:
    """/policy: which policy the recommendations follow, its principles, and (with delegated
    voting) each delegate's backtest track record."""
    scope = policy.applies_to
    where = ", ".join([*scope.spaces, *scope.governors]) or "everywhere"
    fields = [
        EmbedField(name="Owner", value=safe(policy.owner, 200) or "—", inline=True),
        EmbedField(name="Hash", value=f"`{policy.hash[:16]}`", inline=True),
        EmbedField(name="Applies to", value=safe(where, 300) or "—", inline=True),
    ]
    if track_records:
        text = "\n".join(safe(t, 300) for t in track_records)
        fields.append(EmbedField(name="Track record", value=truncate(text, 1024)))
    used = sum(len(f.name) + len(f.value) for f in fields) + 600
    for i, principle in enumerate(policy.principles):
        name = plain(f"{principle.id} (weight {principle.weight:g})", 200)  # ids are [a-z0-9_.-]
        field = _field(name, safe(principle.text, 1024, multiline=True))
        left_over = len(policy.principles) - i
        if len(fields) >= 24 or used + len(field.name) + len(field.value) > EMBED_TOTAL_LIMIT:
            fields.append(EmbedField(name="…", value=f"and {left_over} more principle(s)"))
            break
        fields.append(field)
        used += len(field.name) + len(field.value)
    title = safe(f"Policy {policy.id}", 256)
    description = safe(policy.title, 300, multiline=True)
    return Message(embeds=[Embed(title=title, description=description, fields=fields)])


def digest_messages(digest: Digest) -> list[Message]:
    """The Markdown digest cut into messages of at most 2,000 characters."""
    return [Message(content=piece) for piece in split_for_discord(to_markdown(digest))]


def alert_message(proposal: Proposal, assessment: Assessment | None) -> Message:
    """A new proposal in a subscribed space."""
    content = f"🆕 **New proposal** in {safe(proposal.space, 100)}"
    return Message(content=content, embeds=[_short_embed(proposal, assessment)])


def reminder_message(proposal: Proposal, assessment: Assessment | None, now: datetime) -> Message:
    """A proposal closing soon that the delegate has not voted on."""
    end = proposal.end
    when = f"closes **{left(end - now)}** ({stamp(end)})" if end and end > now else "closes soon"
    content = f"⏰ Not voted yet: {when}"
    return Message(content=content, embeds=[_short_embed(proposal, assessment)])


def answer_message(answer: Answer) -> Message:
    """/ask: the answer, with the proposals it comes from."""
    title = safe(f"❓ {answer.question}", 256) or "❓"
    sources = [
        f"[{i}] {safe(c.title, 120) or '(untitled)'} · {safe(c.uid, 120)}"
        + (f" · {link(c.link)}" if link(c.link) else "")
        for i, c in enumerate(answer.citations[:5], 1)
    ]
    fields = [_field("Sources", "\n".join(sources), 1024)] if sources else []
    footer = {
        "model": "Answered by a model from stored proposals: check the sources.",
        "extractive": "Quoted from stored proposals.",
    }.get(answer.method, "")
    budget = EMBED_TOTAL_LIMIT - len(title) - len(footer) - _size(fields)
    text = safe(answer.text, min(DESCRIPTION_LIMIT, budget), multiline=True) or "—"
    embed = Embed(title=title, description=text, fields=fields, footer=footer, colour=_NEUTRAL)
    return Message(embeds=[embed])


def error_message(text: str) -> Message:
    """An error only the person who asked sees."""
    return Message(content=safe(text, 2000) or "Something went wrong.", ephemeral=True)


# ---- pieces -------------------------------------------------------------------------
def _embed(
    p: Proposal,
    fields: list[EmbedField],
    text: str,
    colour: int,
    limit: int = DESCRIPTION_LIMIT,
) -> Embed:
    """A proposal embed; the description gets whatever room the fields leave."""
    title = safe(p.title, 256) or "(untitled)"
    footer = plain(f"{p.space} · {p.source} · {p.uid}", 300)
    budget = min(limit, EMBED_TOTAL_LIMIT - len(title) - len(footer) - _size(fields))
    description = safe(text, min(DESCRIPTION_LIMIT, budget), multiline=True) if budget > 1 else ""
    return Embed(
        title=title,
        url=embed_url(p.link),
        description=description,
        colour=colour,
        fields=fields,
        footer=footer,
    )


def _short_embed(p: Proposal, assessment: Assessment | None) -> Embed:
    fields = [EmbedField(name="Recommendation", value=_recommendation(assessment, 300))]
    fields += [_field(n, v, 600) for n, v in (("State", _timing(p)), ("Links", _links(p))) if v]
    text = assessment.summary if assessment else p.body
    return _embed(p, fields, text, _colour(assessment), limit=700)


def _field(name: str, value: str, limit: int = 1024) -> EmbedField:
    return EmbedField(name=name, value=truncate(value, min(limit, 1024)) or "—")


def _size(fields: Sequence[EmbedField]) -> int:
    return sum(len(f.name) + len(f.value) for f in fields)


def _colour(assessment: Assessment | None) -> int:
    return _COLOUR[assessment.recommendation] if assessment else _NEUTRAL


def _recommendation(a: Assessment | None, limit: int) -> str:
    if a is None:
        return "*not analysed yet*"
    label = "no recommendation" if a.recommendation == "NONE" else a.recommendation
    text = f"{_ICON[a.recommendation]} **{label}**"
    if a.choice and a.choice.strip().casefold() != a.recommendation.casefold():
        text += f" ({safe(a.choice, 80)})"
    text += f" · {conf(a.confidence)} confident · by {safe(a.provenance.analyst, 60)}"
    if a.escalate:
        reasons = "; ".join(a.escalation_reasons) or "see the flags"
        text += f"\n🙋 **needs a human**: {safe(reasons, 200)}"
    return truncate(text, limit)


def _flags(a: Assessment | None) -> list[str]:
    """Hard-rule failures first (they force the vote), then risks, then injection."""
    if a is None:
        return []
    failed = [f"hard rule {r.rule}: {r.detail}" for r in a.hard_rules if r.outcome == "fail"]
    kinds = [f"possible prompt injection: {f.kind.replace('_', ' ')}" for f in a.injection]
    return list(dict.fromkeys([*failed, *a.risk_flags, *kinds]))


def _lines(items: list[str], each: int) -> str:
    lines = [f"• {safe(item, each)}" for item in items[:_MAX_LINES]]
    if len(items) > _MAX_LINES:
        lines.append(f"…and {len(items) - _MAX_LINES} more")
    return "\n".join(lines)


def _tally(p: Proposal, votes_stored: int) -> str:
    scores = [p.scores[i] if i < len(p.scores) else 0.0 for i in range(len(p.choices))]
    total = p.scores_total or sum(scores)
    lines = []
    for choice, score in list(zip(p.choices, scores, strict=True))[:_MAX_CHOICES]:
        percent = min(100.0, 100 * score / total) if total > 0 else 0.0
        lines.append(f"`{bar(percent, 10)}` {share(percent)} {safe(choice, 60)} ({num(score)})")
    if len(p.choices) > _MAX_CHOICES:
        lines.append(f"…and {len(p.choices) - _MAX_CHOICES} more choices")
    lines.append(f"{p.votes_count} vote(s) at the source · {votes_stored} stored")
    if p.quorum and p.quorum > 0:
        reached = "reached" if total >= p.quorum else "not reached"
        lines.append(f"quorum {num(p.quorum)}: {reached}")
    return "\n".join(lines)


def _timing(p: Proposal) -> str:
    text = f"**{p.state}**"
    if p.state == "pending" and p.start:
        text += f" · starts {stamp(p.start)}"
    if p.end and p.is_open:
        text += f" · ends {stamp(p.end)} ({stamp(p.end, 'f')})"
    elif p.end:
        text += f" · ended {stamp(p.end)}"
    if p.outcome:
        text += f"\noutcome: {safe(p.outcome, 200)}"
    return text


def _links(p: Proposal) -> str:
    shown = [(icon, link(url)) for icon, url in (("🔗", p.link), ("💬", p.discussion))]
    return "\n".join(f"{icon} {url}" for icon, url in shown if url)


def _listing(n: int, p: Proposal, budget: int) -> str:
    """One entry of /proposals; the title shrinks so every entry fits its share."""
    ends = f" · ends {stamp(p.end)}" if p.is_open and p.end else ""
    meta = f"{p.state} · {safe(p.space, 30)}{ends} · {safe(p.uid, 80)}"
    title = safe(p.title, max(16, min(150, budget - len(meta) - 12))) or "(untitled)"
    return truncate(f"**{n}.** {title}\n{meta}", budget)
