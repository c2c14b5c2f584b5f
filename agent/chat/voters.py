"""Discord messages for who decides: `/delegate` and the `/proposal` concentration field.

Pure builders, like `builders.py`: every stored string (titles, reasons, names) goes
through `safe`, and every size is budgeted here.
"""

from __future__ import annotations

from agent.chat.models import EMBED_TOTAL_LIMIT, Embed, EmbedField, Message
from agent.chat.text import link, safe, truncate
from agent.voters.models import Agreement, Concentration, DelegateRecord, Signal
from agent.voters.wording import concentration_line, few_voters_warning, pct

_NEUTRAL = 0x5865F2
_MAX_VOTES = 8
_MAX_REASONS = 3
_MAX_SIGNALS = 3


def concentration_text(c: Concentration, is_open: bool, signals: list[Signal]) -> str:
    """The `Who decides` field of /proposal: warning first, figures, then signals."""
    lines = []
    warning = few_voters_warning(c) if is_open else None
    if warning:
        lines.append(f"⚠️ **{safe(warning, 300)}**")
    lines.append(safe(concentration_line(c), 300))
    for s in signals[:_MAX_SIGNALS]:
        lines.append(f"🔎 {safe(s.text, 260)}")
    if len(signals) > _MAX_SIGNALS:
        lines.append(f"…and {len(signals) - _MAX_SIGNALS} more voting pattern(s) to look at")
    return truncate("\n".join(lines), 1024)


def _agreement(a: Agreement | None) -> str:
    if a is None:
        return "—"
    kappa = f", κ {a.kappa:.2f}" if a.kappa is not None else ""
    return f"{a.agreed}/{a.compared} ({pct(a.share)}{kappa})"


def delegate_message(r: DelegateRecord) -> Message:
    """/delegate: a voting record in one embed."""
    title = safe(f"Delegate {r.name or r.address}", 256)
    summary = [
        f"`{safe(r.address, 100)}`"
        + (f" · configured delegate **{safe(r.delegate_id, 60)}**" if r.delegate_id else ""),
        f"**{r.votes_cast}** vote(s) · first {r.first_vote:%Y-%m-%d} · last {r.last_vote:%Y-%m-%d}",
    ]
    for p in r.participation[:5]:
        summary.append(
            f"{safe(p.space, 60)}: voted on {p.voted} of {p.eligible} proposals open since "
            f"the first vote ({pct(p.share)})"
        )
    fields = [
        EmbedField(
            name="Choices",
            value=truncate(" · ".join(f"{safe(c, 40)} {n}" for c, n in r.choices.items()), 1024)
            or "—",
            inline=True,
        ),
        EmbedField(name="With the outcome", value=_agreement(r.with_outcomes), inline=True),
    ]
    if r.delegate_id:
        fields.append(
            EmbedField(name="With Steward", value=_agreement(r.with_steward), inline=True)
        )
    powers = [pt.power for pt in r.power]
    fields.append(
        EmbedField(
            name="Voting power",
            value=f"first {powers[0]:,.2f} · latest {powers[-1]:,.2f} · max {max(powers):,.2f}",
        )
    )
    fields.append(EmbedField(name="Latest votes", value=_votes(r)))
    if r.reasons:
        fields.append(EmbedField(name="Stated reasons", value=_reasons(r)))
    footer = "From the votes Steward has stored; κ = agreement beyond chance (Cohen's kappa)."
    used = len(title) + len(footer) + sum(len(f.name) + len(f.value) for f in fields)
    description = truncate("\n".join(summary), min(4096, EMBED_TOTAL_LIMIT - used))
    embed = Embed(
        title=title, description=description, fields=fields, footer=footer, colour=_NEUTRAL
    )
    return Message(embeds=[embed])


def _votes(r: DelegateRecord) -> str:
    marks = {True: "✅", False: "❌", None: "·"}
    lines = [
        f"{marks[v.with_outcome]} {v.at:%Y-%m-%d} **{safe(v.choice, 30)}** on "
        f"{safe(v.title, 70) or '(untitled)'}"
        for v in r.votes[:_MAX_VOTES]
    ]
    if len(r.votes) > _MAX_VOTES:
        lines.append(f"…and {len(r.votes) - _MAX_VOTES} earlier")
    return truncate("\n".join(lines), 1024) or "—"


def _reasons(r: DelegateRecord) -> str:
    quotes = []
    for v in r.reasons[:_MAX_REASONS]:
        where = link(v.link) if link(v.link) else safe(v.proposal_uid, 80)
        quotes.append(f"> {safe(v.reason, 200)}\n— {safe(v.title, 60)} {where}")
    return truncate("\n".join(quotes), 1024)
