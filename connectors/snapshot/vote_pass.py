"""The votes pass: votes of many proposals in few requests, each proposal with its own cursor.

A first ingest of a large space used to ask the hub once per proposal, even for the
thousands that have no vote. Here:
- a proposal whose count at the hub is 0 costs no request (once it is closed with final
  scores, it is marked complete: no vote can arrive any more);
- the others are read in `proposal_in` batches of 100 (the hub's limit), ordered by
  `created` from the oldest cursor in the batch and paged like any long list.

Each page becomes one VotePage per proposal, carrying that proposal's cursor (its newest
vote seen), applied in one transaction with its votes. A crash between two of them leaves
every cursor at or before what its proposal's stored votes cover; the next run re-reads
from the oldest cursor of the batch and drops what each proposal has already seen, and the
store keeps one vote per voter (the latest), so nothing is lost or doubled.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Final

from agent.cursors import CursorUpdate, ProposalRef
from agent.models import Vote, utc
from agent.ports import SyncItem, SyncState, VotePage, VotesComplete
from connectors.snapshot import queries
from connectors.snapshot.client import HubClient
from connectors.snapshot.paging import page_by_created
from connectors.snapshot.schema import RawVote, parse

SOURCE: Final = "snapshot"
BATCH: Final = 100  # the hub caps *_in lists at 100


def vote_pages(
    client: HubClient,
    space_id: str,
    refs: Sequence[ProposalRef],
    state: SyncState,
    *,
    page_size: int,
    max_skip: int,
) -> Iterator[SyncItem]:
    """VotePages for every proposal in `refs` whose votes are not complete yet."""
    pending = [r for r in refs if not r.deleted and not r.votes_complete]
    silent = [r.uid for r in pending if r.votes_count == 0 and _final(r)]
    if silent:
        yield VotesComplete(uids=silent)
    since = {r.uid: _cursor(state, r) for r in pending if r.votes_count != 0}
    # Proposals read before are batched apart from new ones: a batch starts at its oldest
    # cursor, and one new proposal must not make the others re-read all their votes.
    for fresh in (True, False):
        wanted = sorted(
            (r for r in pending if r.uid in since and (since[r.uid] == 0) == fresh),
            key=lambda r: since[r.uid],
        )
        for start in range(0, len(wanted), BATCH):
            batch = _Batch(wanted[start : start + BATCH], since, space_id)
            yield from batch.read(client, page_size=page_size, max_skip=max_skip)


class _Batch:
    """Up to 100 proposals read together; per-proposal cursors kept apart."""

    def __init__(self, refs: list[ProposalRef], since: dict[str, int], space_id: str) -> None:
        self.refs = refs
        self.by_id = {r.id: r for r in refs}
        self.since = {r.uid: since[r.uid] for r in refs}
        self.space_id = space_id

    def read(self, client: HubClient, *, page_size: int, max_skip: int) -> Iterator[SyncItem]:
        ids = [r.id for r in self.refs]

        def fetch(first: int, skip: int, created_gte: int) -> list[RawVote]:
            data = client.query(
                queries.VOTES_OF_PROPOSALS,
                {"ids": ids, "first": first, "skip": skip, "since": created_gte},
            )
            return parse(data, "votes", RawVote, many=True)

        start = min(self.since.values())
        for page in page_by_created(fetch, since=start, page_size=page_size, max_skip=max_skip):
            yield from self._pages(page)
        done = [r.uid for r in self.refs if _final(r)]
        if done:
            yield VotesComplete(uids=done)

    def _pages(self, page: list[RawVote]) -> Iterator[VotePage]:
        grouped: dict[str, list[RawVote]] = {}
        for raw in page:
            ref = self.by_id.get(raw.proposal.id) if raw.proposal else None
            if ref is not None and raw.created >= self.since[ref.uid]:
                grouped.setdefault(ref.uid, []).append(raw)
        for ref in self.refs:
            raws = grouped.get(ref.uid)
            if not raws:
                continue
            newest = max(self.since[ref.uid], *(raw.created for raw in raws))
            self.since[ref.uid] = newest
            yield VotePage(
                proposal_uid=ref.uid,
                votes=[to_vote(raw, ref, self.space_id) for raw in raws],
                cursor=CursorUpdate(
                    source=SOURCE, scope=vote_scope(ref.uid), value={"created": newest}
                ),
            )


def vote_scope(uid: str) -> str:
    """The cursor scope of one proposal's votes."""
    return f"votes:{uid}"


def _cursor(state: SyncState, ref: ProposalRef) -> int:
    cursor = state.get_cursor(SOURCE, vote_scope(ref.uid))
    return int(cursor["created"]) if cursor else 0


def _final(ref: ProposalRef) -> bool:
    """Closed with final scores: no vote can arrive any more."""
    return ref.state == "closed" and ref.scores_final


def to_vote(raw: RawVote, ref: ProposalRef, space_id: str) -> Vote:
    return Vote(
        source=SOURCE,
        id=raw.id,
        proposal_uid=ref.uid,
        space=space_id,
        voter=raw.voter,
        choice=raw.choice,
        voting_power=raw.vp or 0.0,
        reason=raw.reason or "",
        created=utc(raw.created),
    )
