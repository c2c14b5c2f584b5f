"""Concentration figures: hand-checked on small votes, and on real Aave votes."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from agent.store.vote_queries import VoteFact
from agent.voters.concentration import concentration, gini
from agent.voters.service import VoterFigures
from agent.voters.wording import concentration_line, few_voters_warning
from tests.voters import CHOICES, load_aave, proposal, store_with, vote


def facts(*rows: tuple[str, object, float]) -> list[VoteFact]:
    return [VoteFact("u", voter, "s", choice, power, 0, "") for voter, choice, power in rows]


def test_figures_on_a_small_vote() -> None:
    votes = facts(("a", 1, 50), ("b", 2, 30), ("c", 2, 10), ("d", 1, 10))
    c = concentration("u", votes, CHOICES)
    assert (c.voters, c.total_power) == (4, 100)
    assert (c.top1_share, c.top5_share, c.top10_share) == (0.5, 1.0, 1.0)
    assert c.nakamoto == 2  # 50 is not more than half of 100
    assert c.gini == pytest.approx(0.35)  # (2*(10+20+90+200))/(4*100) - 5/4
    assert c.leader == "For" and c.top_voter == "a"
    assert c.flips_without_top_voter is True  # For 10 vs Against 40
    assert c.decisive_voters == 1
    assert c.few_decide  # nakamoto 2 <= default 3


def test_a_broad_vote_is_not_flagged() -> None:
    votes = facts(*((f"v{i}", 1 if i % 3 else 2, 10.0) for i in range(30)))
    c = concentration("u", votes, CHOICES, few_voters=3)
    assert c.nakamoto == 16 and c.gini == pytest.approx(0.0)
    assert not c.few_decide and c.flips_without_top_voter is False
    assert c.decisive_voters == 10  # For 200 vs Against 100: without 10 of For, a tie
    assert few_voters_warning(c) is None


def test_no_votes_and_zero_power_are_explained_not_errors() -> None:
    empty = concentration("u", [], CHOICES)
    assert empty.voters == 0 and empty.nakamoto is None and empty.note
    zero = concentration("u", facts(("a", 1, 0.0), ("b", 2, 0.0)), CHOICES)
    assert zero.voters == 2 and zero.zero_power_voters == 2 and zero.gini is None
    assert "zero voting power" in (zero.note or "")
    assert "zero voting power" in concentration_line(zero)
    assert few_voters_warning(zero) is None
    assert gini([]) is None


def test_tie_approval_and_weighted_choices() -> None:
    tie = concentration("u", facts(("a", 1, 10), ("b", 2, 10)), CHOICES)
    assert tie.leader is None and tie.flips_without_top_voter is None
    approval = concentration("u", facts(("a", [1, 2], 10), ("b", [2], 5)), CHOICES)
    assert approval.leader == "Against"  # For 10, Against 15
    weighted = concentration("u", facts(("a", {"1": 3, "2": 1}, 8), ("b", 2, 3)), CHOICES)
    assert weighted.leader == "For"  # For 6, Against 2 + 3
    two = facts(("a", [2, 1], 10), ("b", [1, 2], 6))
    ranked = concentration("u", two, CHOICES, kind="ranked-choice")
    assert ranked.leader == "Against"  # first preferences only


def test_real_aave_votes(tmp_path: Path) -> None:
    store = store_with(tmp_path, [], [])
    rows = load_aave(store)
    figures = VoterFigures(store)
    by_proposal: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        by_proposal[str(r["proposal_id"])].append(int(r["votes_raw"]) / 1e18)
    for p in store.proposals(space="aave"):
        c = figures.concentration(p)
        powers = sorted(by_proposal[p.id], reverse=True)
        assert c.voters == len(powers)
        n = c.nakamoto or 0
        assert sum(powers[:n]) > sum(powers) / 2 >= sum(powers[: n - 1])
        assert c.top1_share == pytest.approx(powers[0] / sum(powers))
        assert 0 <= (c.gini or 0) < 1
    single = next(p for p in store.proposals(space="aave") if p.id == "32")
    assert figures.concentration(single).nakamoto == 1  # one voter: they decide alone


def test_cached_until_a_vote_arrives(tmp_path: Path) -> None:
    p = proposal("p1", state="active")
    store = store_with(tmp_path, [p], [vote(p, "0xa", 1, 10.0), vote(p, "0xb", 2, 5.0)])
    figures = VoterFigures(store)
    first = figures.concentration(p)
    assert figures.concentration(p) is first  # unchanged votes: the cached figures
    store.apply_votes([vote(p, "0xc", 2, 20.0, at=2_000_000_000)])
    again = figures.concentration(p)
    assert again.voters == 3 and again.leader == "Against"
    store.apply_votes([vote(p, "0xc", 1, 20.0, at=2_000_000_100)])  # a re-vote replaces
    assert figures.concentration(p).leader == "For"
