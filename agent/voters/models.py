"""What the voter views compute: typed, frozen, ready for JSON, the CLI and Discord."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Concentration(_Frozen):
    """How concentrated one proposal's voting power is, from the votes stored so far."""

    proposal_uid: str
    voters: int
    zero_power_voters: int = 0
    total_power: float = 0.0
    top1_share: float | None = None
    top5_share: float | None = None
    top10_share: float | None = None
    nakamoto: int | None = None
    """Fewest voters who together hold more than half the power cast: enough to decide
    any single-choice vote among themselves."""
    gini: float | None = None
    """Gini coefficient of the voters' power: 0 all equal, towards 1 one voter holds all."""
    leader: str | None = None
    """The choice ahead on the stored votes (None on a tie or without power)."""
    top_voter: str | None = None
    flips_without_top_voter: bool | None = None
    """Would the leading choice change if the largest voter had not voted?"""
    decisive_voters: int | None = None
    """Fewest voters backing the leader without whom it would no longer lead (tied or
    behind): how many would have to stay home to change the result."""
    few_decide: bool = False
    """`nakamoto` is at or under the `voters.few_voters` setting."""
    note: str | None = None
    """Why figures are missing: no votes stored, or no voting power at all."""


class Agreement(_Frozen):
    """How often one side matched another, with Cohen's kappa (agreement beyond chance:
    with 95 % of votes FOR, raw agreement says little)."""

    compared: int
    agreed: int
    share: float
    kappa: float | None = None


class PowerPoint(_Frozen):
    at: datetime
    power: float
    proposal_uid: str


class Participation(_Frozen):
    """Proposals of a space an address could still vote on after its first vote there."""

    space: str
    eligible: int
    voted: int
    share: float


class RecordVote(_Frozen):
    proposal_uid: str
    title: str
    space: str
    choice: str
    power: float
    at: datetime
    reason: str = ""
    link: str | None = None
    outcome: str | None = None
    with_outcome: bool | None = None
    steward: str | None = None
    """What Steward recommended for the configured delegate's policy, where it did."""
    with_steward: bool | None = None


class DelegateRecord(_Frozen):
    """One address's voting record, from the votes stored."""

    address: str
    name: str | None = None
    delegate_id: str | None = None
    """The configured delegate (voting.delegates) with this address, if any."""
    space: str | None = None
    votes_cast: int
    first_vote: datetime
    last_vote: datetime
    participation: list[Participation] = Field(default_factory=list)
    choices: dict[str, int] = Field(default_factory=dict)
    with_outcomes: Agreement | None = None
    with_steward: Agreement | None = None
    power: list[PowerPoint] = Field(default_factory=list)
    reasons: list[RecordVote] = Field(default_factory=list)
    votes: list[RecordVote] = Field(default_factory=list)
    """Newest first."""


SignalKind = Literal["fresh_burst", "equal_power", "co_voting"]


class Signal(_Frozen):
    """A voting pattern worth a human look, with its evidence. Never a verdict."""

    kind: SignalKind
    space: str
    proposal_uids: list[str]
    text: str
    """The settings' wording, filled in: what was seen, and why it may be innocent."""
    count: int
    choice: str | None = None
    power_share: float | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    window_votes: int | None = None
    """Every vote cast on the proposal (fresh or not) in the window centred on the burst."""
    chance: float | None = None
    addresses: list[str] = Field(default_factory=list)
    """Up to `max_listed` of the addresses involved (`count` is the full number)."""
