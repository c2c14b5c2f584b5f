"""Sybil-like signals: each pattern found with its evidence, and nothing on ordinary votes."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from agent.models import Proposal, Vote
from agent.settings import SignalSettings, VotersSettings
from agent.store.vote_queries import VoteFact
from agent.voters.service import VoterFigures
from agent.voters.signals import find_signals
from tests.voters import T0, load_aave, proposal, store_with, vote

DAY, REGULARS = 86400, [f"0x{i:040x}" for i in range(20)]


def history(n: int = 4) -> tuple[list[Proposal], list[Vote]]:
    """`n` proposals a day apart with the same 20 regular voters, spread over each day;
    their choices follow the bits of their number, so no three share a record."""
    ps = [proposal(f"p{k}", created=None, end=None) for k in range(n)]
    votes = [
        vote(p, v, 1 + ((i >> k) & 1), 10.0 + i * 7.3, T0 + k * DAY + i * 3000)
        for k, p in enumerate(ps)
        for i, v in enumerate(REGULARS)
    ]
    return ps, votes


def test_fresh_burst_is_found_with_its_window_and_addresses(tmp_path: Path) -> None:
    ps, votes = history()
    last = ps[-1]
    fresh = [f"0x{0xF000 + i:040x}" for i in range(12)]
    votes += [vote(last, a, 2, 1.0, T0 + 3 * DAY + 40_000 + i * 120) for i, a in enumerate(fresh)]
    figures = VoterFigures(store_with(tmp_path, ps, votes))
    [signal] = [s for s in figures.signals("dao.eth") if s.kind == "fresh_burst"]
    assert signal.proposal_uids == [last.uid] and signal.choice == "Against"
    assert signal.count == 12 and sorted(signal.addresses) == sorted(fresh)
    assert signal.window_start is not None and signal.window_end is not None
    assert (signal.window_end - signal.window_start).total_seconds() == 11 * 120
    assert "12 addresses with no earlier vote" in signal.text
    # two regulars voted in the hour around it: 12 of 14
    assert signal.window_votes == 14 and "(85.7% of the votes cast then" in signal.text
    assert "sybil" not in signal.text.lower()


def test_the_same_newcomers_spread_out_or_too_early_are_not_a_burst(tmp_path: Path) -> None:
    ps, votes = history()
    fresh = [f"0x{0xF000 + i:040x}" for i in range(12)]
    votes += [vote(ps[-1], a, 2, 1.0, T0 + 3 * DAY + i * 7000) for i, a in enumerate(fresh)]
    assert not VoterFigures(store_with(tmp_path, ps, votes)).signals("dao.eth")
    early = [vote(ps[0], f"0x{0xE000 + i:040x}", 1, 1.0, T0 + 500 + i) for i in range(15)]
    (tmp_path / "early").mkdir()
    store = store_with(tmp_path / "early", ps, votes + early)
    assert not [s for s in VoterFigures(store).signals("dao.eth") if s.kind == "fresh_burst"]


def test_newcomers_in_a_rush_of_regular_voters_are_not_a_burst(tmp_path: Path) -> None:
    """An organic rush (a forum post, a deadline) brings regulars too: the 12 newcomers are
    under half of the 32 votes cast in their hour, so nothing is shown."""
    ps, votes = history(3)
    crowd = [f"0x{0xB000 + i:040x}" for i in range(20)]
    rush = [proposal("p3", created=None, end=None)]
    votes += [
        vote(ps[k], a, 1, 5.0, T0 + k * DAY + 10 + i) for k in range(3) for i, a in enumerate(crowd)
    ]
    votes += [vote(rush[0], a, 1, 5.0, T0 + 3 * DAY + 100 + i) for i, a in enumerate(crowd)]
    fresh = [f"0x{0xF000 + i:040x}" for i in range(12)]
    votes += [vote(rush[0], a, 1, 1.0, T0 + 3 * DAY + 200 + i) for i, a in enumerate(fresh)]
    store = store_with(tmp_path, ps + rush, votes)
    assert not [s for s in VoterFigures(store).signals("dao.eth") if s.kind == "fresh_burst"]
    loose = VotersSettings(signals=SignalSettings(burst_min_fresh_share=0.3))
    [burst] = [s for s in VoterFigures(store, loose).signals("dao.eth") if s.kind == "fresh_burst"]
    assert (burst.count, burst.window_votes) == (12, 32)


def test_near_equal_power_cluster(tmp_path: Path) -> None:
    ps, votes = history(1)
    p = ps[0]
    clones = [f"0x{0xC000 + i:040x}" for i in range(6)]
    votes += [vote(p, a, 2, 250.0 + i * 0.5, T0 + 90_000 + i) for i, a in enumerate(clones)]
    figures = VoterFigures(store_with(tmp_path, ps, votes))
    [signal] = [s for s in figures.signals("dao.eth") if s.kind == "equal_power"]
    assert signal.count == 6 and set(signal.addresses) == set(clones)
    assert signal.choice == "Against" and signal.power_share and signal.power_share > 0.3
    assert "near-equal voting power" in signal.text


def test_co_voting_cluster_needs_to_be_unlikely_by_chance(tmp_path: Path) -> None:
    ps, votes = history(4)
    ring = [f"0x{0xD000 + i:040x}" for i in range(3)]
    pattern = [2, 3, 2, 3]  # minority choices: unlikely for a random voter of each proposal
    votes += [
        vote(p, a, pattern[k], 1.0, T0 + k * DAY + 50 + j)
        for k, p in enumerate(ps)
        for j, a in enumerate(ring)
    ]
    figures = VoterFigures(store_with(tmp_path, ps, votes))
    [signal] = [s for s in figures.signals("dao.eth") if s.kind == "co_voting"]
    assert sorted(signal.addresses) == ring and len(signal.proposal_uids) == 4
    assert signal.chance is not None and signal.chance < 0.05
    # regulars share records at most in pairs: under covote_min_cluster, not shown
    assert all(set(s.addresses) == set(ring) for s in figures.signals("dao.eth"))


def test_wording_comes_from_settings_and_is_checked() -> None:
    custom = SignalSettings(
        burst_min_addresses=2,
        burst_min_prior_proposals=0,
        wording={
            **SignalSettings().wording,
            "fresh_burst": "Seen: {count} new voters chose {choice} inside {minutes} min.",
        },
    )
    p = proposal("x")
    facts = [VoteFact(p.uid, f"0x{i:040x}", p.space, 1, 1.0, T0 + i, "") for i in range(3)]
    [s] = find_signals(p.space, facts, {p.uid: p}, custom)
    assert s.text == "Seen: 3 new voters chose For inside 60 min."
    with pytest.raises(ValidationError, match="unknown placeholder"):
        SignalSettings(wording={**SignalSettings().wording, "co_voting": "{sybils} found"})
    with pytest.raises(ValidationError, match="unknown signal"):
        SignalSettings(wording={**SignalSettings().wording, "verdict": "x"})


def test_real_aave_votes_identical_records_that_chance_explains_are_not_shown(
    tmp_path: Path,
) -> None:
    store = store_with(tmp_path, [], [])
    load_aave(store)
    # Three regular Aave voters voted FOR on the same six proposals; 80 % of a random
    # voter's records would match (nearly every vote there is FOR): no signal by default,
    assert VoterFigures(store).signals("aave") == []
    # and with the chance filter off, it shows up with its evidence and hedged wording.
    loose = VotersSettings(signals=SignalSettings(covote_max_chance=1.0))
    [s] = VoterFigures(store, loose).signals("aave")
    assert (s.kind, s.count, len(s.proposal_uids)) == ("co_voting", 3, 6)
    assert s.chance == pytest.approx(0.8) and len(s.addresses) == 3
    assert "Worth a look" in s.text and "sybil" not in s.text.lower()
    assert VoterFigures(store).signals("nothing-here") == []


def test_signals_are_cached_until_the_space_votes_change(tmp_path: Path) -> None:
    ps, votes = history()
    store = store_with(tmp_path, ps, votes)
    figures = VoterFigures(store)
    assert figures.signals("dao.eth") == []
    fresh = [f"0x{0xF000 + i:040x}" for i in range(12)]
    store.apply_votes(
        [vote(ps[-1], a, 2, 1.0, T0 + 3 * DAY + 40_000 + i) for i, a in enumerate(fresh)]
    )
    [burst] = figures.signals("dao.eth")  # new votes: computed again
    assert burst.kind == "fresh_burst"
    assert figures.signals("dao.eth", only=[ps[0].uid]) == []
    store.mark_deleted([ps[-1].uid])  # its votes no longer count
    assert figures.signals("dao.eth") == []
