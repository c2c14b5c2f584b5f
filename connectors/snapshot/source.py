"""SnapshotSource: incremental sync of a space's proposals and votes.

Per space and run:
1. the space itself (name, verified, spam flag);
2. proposals created since the cursor (`--full`: all of them, and any stored
   proposal the hub no longer lists is recorded as deleted);
3. stored proposals that can still change (open, or scores not final) are
   re-read by id: edits, state and tallies; missing ones were deleted;
4. votes of proposals whose votes are not complete, since each one's cursor, read
   in batches (connectors/snapshot/vote_pass.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Final

from agent.cursors import CursorUpdate, ProposalRef
from agent.errors import SourceError
from agent.models import Proposal, Space, utc
from agent.ports import ProposalPage, ProposalsGone, SpaceSeen, SyncItem, SyncState
from agent.settings import SnapshotSettings
from connectors.snapshot import queries
from connectors.snapshot.client import HubClient
from connectors.snapshot.paging import page_by_created
from connectors.snapshot.schema import RawProposal, RawSpace, parse
from connectors.snapshot.vote_pass import vote_pages

SOURCE: Final = "snapshot"
_ID_BATCH = 100  # the hub caps *_in lists at 100


class SnapshotSource:
    """A ProposalSource over the hub's GraphQL API."""

    name = SOURCE

    def __init__(
        self, client: HubClient, settings: SnapshotSettings, spaces: Sequence[str] | None = None
    ) -> None:
        self.client = client
        self.settings = settings
        self._spaces = list(spaces or settings.spaces)

    def scopes(self) -> list[str]:
        return list(self._spaces)

    def sync(
        self, scope: str, state: SyncState, *, full: bool = False, votes: bool = True
    ) -> Iterator[SyncItem]:
        space = self._space(scope)
        yield SpaceSeen(space=space)
        seen: set[str] = set()
        yield from self._new_proposals(space, state, full, seen)
        refs = [r for r in state.refs(SOURCE, scope) if not r.deleted]
        if full:
            gone = [r.uid for r in refs if r.uid not in seen]
            if gone:
                yield ProposalsGone(uids=gone)
        yield from self._refresh(space, [r for r in refs if _may_change(r) and r.uid not in seen])
        if votes and self.settings.votes:
            yield from vote_pages(
                self.client,
                scope,
                state.refs(SOURCE, scope),
                state,
                page_size=self.settings.page_size,
                max_skip=self.settings.max_skip,
            )

    # ---- steps ---------------------------------------------------------------
    def _space(self, space_id: str) -> Space:
        data = self.client.query(queries.SPACE, {"id": space_id})
        raw: RawSpace | None = parse(data, "space", RawSpace, many=False)
        if raw is None:
            raise SourceError(f"the Snapshot hub has no space {space_id!r}")
        return Space(
            source=SOURCE,
            id=raw.id,
            name=raw.name or raw.id,
            network=raw.network,
            symbol=raw.symbol,
            verified=bool(raw.verified),
            flagged=bool(raw.flagged),
            proposals_count=raw.proposalsCount,
        )

    def _new_proposals(
        self, space: Space, state: SyncState, full: bool, seen: set[str]
    ) -> Iterator[SyncItem]:
        scope = f"proposals:{space.id}"
        cursor = None if full else state.get_cursor(SOURCE, scope)
        since = int(cursor["created"]) if cursor else 0

        def fetch(first: int, skip: int, created_gte: int) -> list[RawProposal]:
            data = self.client.query(
                queries.PROPOSALS_SINCE,
                {"space": space.id, "first": first, "skip": skip, "since": created_gte},
            )
            return parse(data, "proposals", RawProposal, many=True)

        for page in page_by_created(
            fetch, since=since, page_size=self.settings.page_size, max_skip=self.settings.max_skip
        ):
            proposals = [to_proposal(raw, space) for raw in page]
            seen.update(p.uid for p in proposals)
            newest = max(raw.created for raw in page)
            yield ProposalPage(
                proposals=proposals,
                cursor=CursorUpdate(
                    source=SOURCE, scope=scope, value={"created": max(newest, since)}
                ),
            )

    def _refresh(self, space: Space, refs: list[ProposalRef]) -> Iterator[SyncItem]:
        for start in range(0, len(refs), _ID_BATCH):
            batch = refs[start : start + _ID_BATCH]
            data = self.client.query(
                queries.PROPOSALS_BY_ID, {"ids": [r.id for r in batch], "first": len(batch)}
            )
            raws: list[RawProposal] = parse(data, "proposals", RawProposal, many=True)
            found = {raw.id for raw in raws}
            yield ProposalPage(
                proposals=[to_proposal(raw, space) for raw in raws if raw.space.id == space.id]
            )
            gone = [r.uid for r in batch if r.id not in found]
            if gone:
                yield ProposalsGone(uids=gone)


def _may_change(ref: ProposalRef) -> bool:
    return ref.state in ("pending", "active") or not ref.scores_final


def to_proposal(raw: RawProposal, space: Space) -> Proposal:
    """Map the hub's proposal onto the shared domain model."""
    return Proposal(
        source=SOURCE,
        space=raw.space.id,
        id=raw.id,
        title=raw.title,
        body=raw.body or "",
        choices=raw.choices,
        type=raw.type,
        start=utc(raw.start),
        end=utc(raw.end),
        snapshot_block=raw.snapshot,
        state=raw.state,
        author=raw.author,
        scores=raw.scores or [],
        scores_total=raw.scores_total,
        scores_final=raw.scores_state == "final",
        votes_count=raw.votes or 0,
        quorum=raw.quorum,
        discussion=raw.discussion or None,
        link=raw.link or f"https://snapshot.org/#/{raw.space.id}/proposal/{raw.id}",
        created=utc(raw.created),
        updated=utc(raw.updated) if raw.updated else None,
        flagged=bool(raw.flagged) or space.flagged,
    )
