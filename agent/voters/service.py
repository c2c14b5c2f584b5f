"""Reading votes from the record store for the voter views, with a small cache.

Concentration figures are cached per proposal under a key that changes with its
stored votes (count and newest vote time), so they follow votes as they arrive
and a digest or `/proposal` recomputes only what changed.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Protocol

from agent.errors import NotFound, StewardError
from agent.models import Proposal
from agent.settings import VotersSettings
from agent.store.vote_queries import VoteFact, VoteStamp
from agent.voters.concentration import concentration
from agent.voters.models import Concentration, DelegateRecord, Signal
from agent.voters.record import delegate_record
from agent.voters.signals import find_signals

_CACHE_SIZE = 512
MAX_ADDRESS = 200


class VoteStore(Protocol):
    """What the voter views read from the record store."""

    def vote_facts(self, uid: str) -> list[VoteFact]: ...

    def vote_stamp(self, uid: str) -> VoteStamp: ...

    def space_vote_stamp(self, space: str) -> VoteStamp: ...

    def space_vote_facts(self, space: str) -> list[VoteFact]: ...

    def voter_facts(self, address: str, space: str | None = None) -> list[VoteFact]: ...

    def proposals_ending_since(self, space: str, ts: int) -> list[str]: ...

    def proposals(
        self, *, space: str | None = None, uids: list[str] | None = None
    ) -> list[Proposal]: ...


Recommend = Callable[[list[str]], Mapping[str, str]]
"""uids → the choice Steward recommended on each, for a configured delegate's policy."""


class VoterFigures:
    """Delegate records, concentration and signals from the stored votes."""

    def __init__(
        self,
        store: VoteStore,
        settings: VotersSettings | None = None,
        *,
        names: Mapping[str, str] | None = None,
        delegates: Mapping[str, tuple[str, Recommend]] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings or VotersSettings()
        self.names = {k.lower(): v for k, v in {**(names or {}), **self.settings.names}.items()}
        self.delegates = {k.lower(): v for k, v in (delegates or {}).items()}
        """Configured delegates by address: (delegate id, their recommendations)."""
        self._cache: OrderedDict[str, tuple[VoteStamp, Concentration]] = OrderedDict()
        self._signals: OrderedDict[str, tuple[VoteStamp, list[Signal]]] = OrderedDict()

    def concentration(self, p: Proposal) -> Concentration:
        stamp = self.store.vote_stamp(p.uid)
        hit = self._cache.get(p.uid)
        if hit and hit[0] == stamp:
            self._cache.move_to_end(p.uid)
            return hit[1]
        figures = concentration(
            p.uid,
            self.store.vote_facts(p.uid) if stamp.votes else [],
            p.choices,
            kind=p.type,
            few_voters=self.settings.few_voters,
        )
        self._cache[p.uid] = (stamp, figures)
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return figures

    def record(self, address: str, space: str | None = None) -> DelegateRecord:
        """`NotFound` (a message for people) when the address has no stored vote."""
        wanted = address.strip()
        if not wanted or len(wanted) > MAX_ADDRESS:
            raise StewardError("Give an address (0x…) or a voter id as stored.")
        facts = self.store.voter_facts(wanted, space)
        if not facts:
            where = f" in {space}" if space else ""
            raise NotFound(f"No stored votes from {wanted[:60]}{where}.")
        uids = sorted({f.proposal_uid for f in facts})
        proposals = {p.uid: p for p in self.store.proposals(uids=uids)}
        first: dict[str, int] = {}
        for f in facts:  # oldest first
            first.setdefault(f.space, f.created_ts)
        eligible = {s: self.store.proposals_ending_since(s, ts) for s, ts in first.items()}
        delegate = self.delegates.get(wanted.lower())
        return delegate_record(
            facts[0].voter,
            facts,
            proposals,
            eligible,
            recommendations=delegate[1](uids) if delegate else None,
            name=self.names.get(wanted.lower()),
            delegate_id=delegate[0] if delegate else None,
            space=space,
        )

    def signals(self, space: str, only: list[str] | None = None) -> list[Signal]:
        """A space's signals, most voting power first; cached until its votes change
        (`show`, `/proposal` and the analyst each ask for one proposal's)."""
        stamp = self.store.space_vote_stamp(space)
        hit = self._signals.get(space)
        if hit is None or hit[0] != stamp:
            facts = self.store.space_vote_facts(space) if stamp.votes else []
            proposals = {p.uid: p for p in self.store.proposals(space=space)}
            found = find_signals(space, facts, proposals, self.settings.signals)
            found.sort(key=lambda s: (-(s.power_share or 0.0), -s.count))
            hit = (stamp, found)
            self._signals[space] = hit
            if len(self._signals) > _CACHE_SIZE:
                self._signals.popitem(last=False)
        if only is None:
            return list(hit[1])
        wanted = set(only)
        return [s for s in hit[1] if wanted.intersection(s.proposal_uids)]
