"""Sybil-like voting patterns in a space's votes: signals for a person, never verdicts.

Three patterns, each with its evidence (the addresses, the window, the share of
power) and the settings' wording, which says what was seen and how it can be
innocent:

- fresh_burst: addresses with no earlier vote in the space choosing the same way
  within a short window;
- equal_power: addresses with near-equal voting power choosing the same way on one
  proposal;
- co_voting: addresses with identical records (same proposals, same choices) that
  chance would rarely produce.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping, Sequence

from agent.models import Proposal, utc
from agent.settings import SignalSettings
from agent.store.vote_queries import VoteFact
from agent.voters.choices import label
from agent.voters.models import Signal
from agent.voters.wording import pct


def find_signals(
    space: str,
    facts: Sequence[VoteFact],
    proposals: Mapping[str, Proposal],
    settings: SignalSettings,
    *,
    only: Collection[str] | None = None,
) -> list[Signal]:
    """Every signal in a space's votes (oldest first); `only` keeps those touching these uids."""
    by_proposal = _by_proposal(facts)
    labelled = {uid: _labels(vs, proposals.get(uid)) for uid, vs in by_proposal.items()}
    found = [
        *fresh_bursts(space, facts, labelled, settings),
        *equal_power(space, by_proposal, labelled, settings),
        *co_voting(space, labelled, settings),
    ]
    if only is not None:
        wanted = set(only)
        found = [s for s in found if wanted.intersection(s.proposal_uids)]
    return found


def fresh_bursts(
    space: str,
    facts: Sequence[VoteFact],
    labelled: Mapping[str, dict[str, str]],
    settings: SignalSettings,
) -> list[Signal]:
    """Per proposal and choice, the densest window of first-time voters, if dense enough and
    if they were most of the votes cast then (an organic rush brings regular voters too)."""
    seen: set[str] = set()
    position: dict[str, int] = {}  # proposals in the order their first vote arrived
    fresh: dict[tuple[str, str], list[VoteFact]] = defaultdict(list)
    times: dict[str, list[int]] = defaultdict(list)
    for f in facts:  # oldest first: a voter is fresh on the vote that is their first here
        if f.proposal_uid not in labelled:
            continue
        times[f.proposal_uid].append(f.created_ts)
        position.setdefault(f.proposal_uid, len(position))
        if f.voter in seen:
            continue
        seen.add(f.voter)
        if position[f.proposal_uid] >= settings.burst_min_prior_proposals:
            fresh[(f.proposal_uid, labelled[f.proposal_uid][f.voter])].append(f)
    window = int(settings.burst_window_min * 60)
    totals = _power_totals(facts)
    out = []
    for (uid, choice), votes in fresh.items():
        best = _densest(votes, window)
        if len(best) < settings.burst_min_addresses:
            continue
        middle = (best[0].created_ts + best[-1].created_ts) // 2  # the window around it
        lo, hi = middle - window // 2, middle + window - window // 2
        cast = bisect_right(times[uid], hi) - bisect_left(times[uid], lo)
        if len(best) / cast < settings.burst_min_fresh_share:
            continue
        out.append(_burst(space, uid, choice, best, cast, totals.get(uid, 0.0), settings))
    return out


def _burst(
    space: str,
    uid: str,
    choice: str,
    best: Sequence[VoteFact],
    cast: int,
    total: float,
    settings: SignalSettings,
) -> Signal:
    power = sum(v.power for v in best)
    text = settings.wording["fresh_burst"].format(
        count=len(best),
        choice=choice,
        minutes=f"{settings.burst_window_min:g}",
        fresh_share=pct(len(best) / cast),
        share=_share(power, total),
    )
    return Signal(
        kind="fresh_burst",
        space=space,
        proposal_uids=[uid],
        text=text,
        count=len(best),
        choice=choice,
        power_share=_ratio(power, total),
        window_start=utc(best[0].created_ts),
        window_end=utc(best[-1].created_ts),
        window_votes=cast,
        addresses=[v.voter for v in best[: settings.max_listed]],
    )


def equal_power(
    space: str,
    by_proposal: Mapping[str, Sequence[VoteFact]],
    labelled: Mapping[str, dict[str, str]],
    settings: SignalSettings,
) -> list[Signal]:
    """Runs of near-equal positive power among one proposal's voters of one choice."""
    out = []
    for uid, votes in by_proposal.items():
        total = sum(max(0.0, v.power) for v in votes)
        per_choice: dict[str, list[VoteFact]] = defaultdict(list)
        for v in votes:
            if v.power > 0:
                per_choice[labelled[uid][v.voter]].append(v)
        for choice, group in per_choice.items():
            for run in _near_equal_runs(group, settings.equal_power_tolerance):
                power = sum(v.power for v in run)
                if len(run) < settings.equal_power_min_cluster:
                    continue
                if _ratio(power, total) < settings.equal_power_min_share:
                    continue
                text = settings.wording["equal_power"].format(
                    count=len(run),
                    choice=choice,
                    power=_num(run[len(run) // 2].power),
                    tolerance=f"{settings.equal_power_tolerance:.0%}",
                    share=_share(power, total),
                )
                out.append(
                    Signal(
                        kind="equal_power",
                        space=space,
                        proposal_uids=[uid],
                        text=text,
                        count=len(run),
                        choice=choice,
                        power_share=_ratio(power, total),
                        addresses=[v.voter for v in run[: settings.max_listed]],
                    )
                )
    return out


def co_voting(
    space: str, labelled: Mapping[str, dict[str, str]], settings: SignalSettings
) -> list[Signal]:
    """Groups of addresses whose whole records here are identical and unlikely by chance."""
    records: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for uid, choices in labelled.items():
        for voter, choice in choices.items():
            records[voter].append((uid, choice))
    groups: dict[tuple[tuple[str, str], ...], list[str]] = defaultdict(list)
    for voter, record in records.items():
        if len(record) >= settings.covote_min_proposals:
            groups[tuple(sorted(record))].append(voter)
    shares = {uid: _choice_shares(choices) for uid, choices in labelled.items()}
    out = []
    for shared, voters in groups.items():
        if len(voters) < settings.covote_min_cluster:
            continue
        chance = 1.0
        for uid, choice in shared:
            chance *= shares[uid][choice]
        if chance > settings.covote_max_chance:
            continue
        text = settings.wording["co_voting"].format(
            count=len(voters), proposals=len(shared), chance=f"{chance:.2g}"
        )
        out.append(
            Signal(
                kind="co_voting",
                space=space,
                proposal_uids=[uid for uid, _ in shared],
                text=text,
                count=len(voters),
                chance=chance,
                addresses=sorted(voters)[: settings.max_listed],
            )
        )
    return out


# ---- pieces ----------------------------------------------------------------------------
def _by_proposal(facts: Sequence[VoteFact]) -> dict[str, list[VoteFact]]:
    grouped: dict[str, list[VoteFact]] = defaultdict(list)
    for f in facts:
        grouped[f.proposal_uid].append(f)
    return grouped


def _labels(votes: Sequence[VoteFact], p: Proposal | None) -> dict[str, str]:
    choices = p.choices if p else []
    return {v.voter: label(v.choice, choices) for v in votes}


def _densest(votes: Sequence[VoteFact], window: int) -> list[VoteFact]:
    """The longest run of votes (sorted by time) spanning at most `window` seconds."""
    ordered = sorted(votes, key=lambda v: v.created_ts)
    best, start = (0, 0), 0
    for end in range(len(ordered)):
        while ordered[end].created_ts - ordered[start].created_ts > window:
            start += 1
        if end + 1 - start > best[1] - best[0]:
            best = (start, end + 1)
    return ordered[best[0] : best[1]]


def _near_equal_runs(group: Sequence[VoteFact], tolerance: float) -> list[list[VoteFact]]:
    """Split powers (sorted) where a value is more than `tolerance` above the run's first."""
    ordered = sorted(group, key=lambda v: v.power)
    runs: list[list[VoteFact]] = []
    for v in ordered:
        if runs and v.power <= runs[-1][0].power * (1 + tolerance):
            runs[-1].append(v)
        else:
            runs.append([v])
    return runs


def _choice_shares(choices: Mapping[str, str]) -> dict[str, float]:
    counts = Counter(choices.values())
    n = len(choices)
    return {c: k / n for c, k in counts.items()}


def _power_totals(facts: Sequence[VoteFact]) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for f in facts:
        totals[f.proposal_uid] += max(0.0, f.power)
    return totals


def _ratio(part: float, total: float) -> float:
    return part / total if total > 0 else 0.0


def _share(part: float, total: float) -> str:
    return pct(_ratio(part, total))


def _num(value: float) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.1f}{suffix}"
    return f"{value:,.2f}"
