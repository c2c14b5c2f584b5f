"""Voting test helpers."""

from __future__ import annotations

from agent.settings import DelegateSettings
from agent.voting.backtest_gate import TrackRecord


def passing_track(delegate: DelegateSettings) -> TrackRecord:
    """A track record that passes the gate, for tests of what happens after the gate
    (the gate itself is tested on real backtests in tests/voting/test_backtest_gate.py)."""
    return TrackRecord(
        voter=delegate.address, found=True, passed=True, detail="test", n=50, kappa=0.6, age_d=1
    )
