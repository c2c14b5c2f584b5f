"""Which choice won an ended proposal, as delegate records compare votes with it."""

from __future__ import annotations

from agent.voters.outcome import outcome_verdict, winning_choice
from tests.voters import proposal


def test_winning_choice_from_outcome_state_or_tally() -> None:
    assert winning_choice(proposal("a", outcome="executed")) == "For"
    assert winning_choice(proposal("b", outcome="Against")) == "Against"
    assert winning_choice(proposal("c", outcome="defeated")) == "Against"
    assert winning_choice(proposal("d", state="executed")) == "For"
    assert winning_choice(proposal("e", scores=[1.0, 5.0, 0.0])) == "Against"
    yes_no = proposal("f", choices=["Yes", "No"], outcome="passed")
    assert winning_choice(yes_no) == "Yes"


def test_no_winner_when_the_store_cannot_tell() -> None:
    assert winning_choice(proposal("open", state="active", scores=[5.0, 1.0, 0.0])) is None
    assert winning_choice(proposal("gone", state="canceled")) is None
    assert winning_choice(proposal("tie", scores=[3.0, 3.0, 0.0])) is None
    assert winning_choice(proposal("none")) is None  # no scores, no outcome
    assert winning_choice(proposal("odd", outcome="no queue/execute/cancel event")) is None
    assert outcome_verdict("Quorum not reached") == "AGAINST" and outcome_verdict("?") is None
