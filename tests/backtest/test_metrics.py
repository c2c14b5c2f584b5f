"""The agreement figures, on hand-checked cases."""

from __future__ import annotations

import pytest

from agent.backtest.metrics import flip_rate, kappa, score


def test_kappa_matches_the_textbook_example() -> None:
    # 50 cases: both FOR 20, both AGAINST 15, voter FOR/Steward AGAINST 5, vice versa 10.
    actual = ["FOR"] * 25 + ["AGAINST"] * 25
    said = ["FOR"] * 20 + ["AGAINST"] * 5 + ["FOR"] * 10 + ["AGAINST"] * 15
    # p_o = 0.7, p_e = 0.5*0.6 + 0.5*0.4 = 0.5 → κ = 0.4
    assert kappa(actual, said) == pytest.approx(0.4)


def test_always_for_scores_kappa_zero_or_undefined() -> None:
    assert kappa(["FOR", "AGAINST", "FOR"], ["FOR"] * 3) == pytest.approx(0.0)
    assert kappa(["FOR", "FOR"], ["FOR", "FOR"]) is None


def test_none_lowers_coverage_and_recall_not_agreement() -> None:
    actual = ["FOR", "FOR", "AGAINST", "AGAINST"]
    said = ["FOR", "NONE", "AGAINST", "NONE"]
    m = score(actual, said, [0.9, 0.0, 0.7, 0.0])
    assert (m.n, m.covered, m.coverage, m.agreement) == (4, 2, 0.5, 1.0)
    assert m.per_choice["AGAINST"].recall == 0.5 and m.per_choice["AGAINST"].precision == 1.0
    assert m.confusion["AGAINST"]["NONE"] == 1 and m.confusion["FOR"]["FOR"] == 1
    assert m.brier == pytest.approx(((0.1) ** 2 + (0.3) ** 2) / 2)
    bands = {(b.low, b.n) for b in m.reliability}
    assert (0.8, 1) in bands and (0.6, 1) in bands


def test_flip_rate() -> None:
    assert flip_rate([["FOR", "FOR"], ["FOR", "AGAINST"], ["NONE", "NONE"], ["A", "A"]]) == 0.25
