"""A delegate's voting record, computed from their stored votes.

Pure: the service reads the votes, the proposals they were cast on, which
proposals each space had since the first vote, and Steward's recommendations.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from agent.models import Proposal, utc
from agent.store.vote_queries import VoteFact
from agent.voters.choices import label
from agent.voters.models import Agreement, DelegateRecord, Participation, PowerPoint, RecordVote
from agent.voters.outcome import outcome_verdict, winning_choice

MAX_REASONS = 10


def delegate_record(
    address: str,
    facts: Sequence[VoteFact],
    proposals: Mapping[str, Proposal],
    eligible: Mapping[str, Sequence[str]],
    *,
    recommendations: Mapping[str, str] | None = None,
    name: str | None = None,
    delegate_id: str | None = None,
    space: str | None = None,
) -> DelegateRecord:
    """`facts` are the address's votes (non-empty); `eligible` maps each space to the
    proposals it could vote on since its first vote there."""
    if not facts:
        raise ValueError("a delegate record needs at least one vote")
    recommended = recommendations or {}
    votes = [_vote(f, proposals.get(f.proposal_uid), recommended) for f in facts]
    votes.sort(key=lambda v: v.at)
    return DelegateRecord(
        address=address,
        name=name,
        delegate_id=delegate_id,
        space=space,
        votes_cast=len(votes),
        first_vote=votes[0].at,
        last_vote=votes[-1].at,
        participation=_participation(votes, eligible),
        choices=dict(Counter(v.choice for v in votes).most_common()),
        with_outcomes=_agreement([(v.choice, v.outcome) for v in votes if v.outcome]),
        with_steward=_agreement([(v.choice, v.steward) for v in votes if v.steward]),
        power=[PowerPoint(at=v.at, power=v.power, proposal_uid=v.proposal_uid) for v in votes],
        reasons=[v for v in reversed(votes) if v.reason.strip()][:MAX_REASONS],
        votes=list(reversed(votes)),
    )


def _vote(f: VoteFact, p: Proposal | None, recommended: Mapping[str, str]) -> RecordVote:
    choices = p.choices if p else []
    chosen = label(f.choice, choices)
    outcome = winning_choice(p) if p else None
    steward = recommended.get(f.proposal_uid)
    return RecordVote(
        proposal_uid=f.proposal_uid,
        title=p.title if p else "(proposal not stored)",
        space=f.space,
        choice=chosen,
        power=f.power,
        at=utc(f.created_ts),
        reason=f.reason or "",
        link=p.link if p else None,
        outcome=outcome,
        with_outcome=_same(chosen, outcome) if outcome else None,
        steward=steward,
        with_steward=_same(chosen, steward) if steward else None,
    )


def _same(a: str, b: str) -> bool:
    if a.strip().casefold() == b.strip().casefold():
        return True
    va, vb = outcome_verdict(a), outcome_verdict(b)
    return va is not None and va == vb


def _participation(
    votes: Sequence[RecordVote], eligible: Mapping[str, Sequence[str]]
) -> list[Participation]:
    voted: dict[str, set[str]] = {}
    for v in votes:
        voted.setdefault(v.space, set()).add(v.proposal_uid)
    out = []
    for space, uids in sorted(voted.items()):
        pool = set(eligible.get(space, ())) | uids  # a vote proves the proposal was open
        out.append(
            Participation(
                space=space, eligible=len(pool), voted=len(uids), share=len(uids) / len(pool)
            )
        )
    return out


def _agreement(pairs: Sequence[tuple[str, str]]) -> Agreement | None:
    """Raw agreement and Cohen's kappa over (this side's label, the other side's label)."""
    if not pairs:
        return None
    norm = [(_key(a), _key(b)) for a, b in pairs]
    agreed = sum(1 for (a, b), raw in zip(norm, pairs, strict=True) if a == b or _same(*raw))
    n = len(pairs)
    left, right = Counter(a for a, _ in norm), Counter(b for _, b in norm)
    expected = sum(left[k] * right[k] for k in left) / (n * n)
    kappa = (agreed / n - expected) / (1 - expected) if expected < 1 else None
    return Agreement(compared=n, agreed=agreed, share=agreed / n, kappa=kappa)


def _key(text: str) -> str:
    """Labels compared by meaning where they have one (For / Yes / Yae are one side)."""
    return outcome_verdict(text) or text.strip().casefold()
