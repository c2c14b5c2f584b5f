"""The ingest pipeline: a source's changes into the record store, in order.

Each item a source yields is applied (with its cursor) before the next is
pulled, so an interruption anywhere leaves a consistent store that the next
run resumes from. Vector indexing follows in `agent.indexer`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from pydantic import BaseModel

from agent.errors import StewardError
from agent.home import DataHome
from agent.ports import (
    ProposalPage,
    ProposalsGone,
    ProposalSource,
    Rewind,
    SpaceSeen,
    SyncItem,
    VotePage,
    VotesComplete,
)
from agent.progress import NoProgress, Progress
from agent.store import RecordStore


class IngestCounts(BaseModel):
    new: int = 0
    updated: int = 0
    edited: int = 0
    unchanged: int = 0
    restored: int = 0
    deleted: int = 0
    votes: int = 0
    spaces: int = 0
    reorgs: int = 0
    votes_rewound: int = 0

    def plus(self, other: IngestCounts) -> IngestCounts:
        """Counts of two runs (several sources in one command) added up."""
        return IngestCounts(
            **{k: getattr(self, k) + getattr(other, k) for k in IngestCounts.model_fields}
        )


class IngestFailed(StewardError):
    """Ingest stopped part-way; what was applied before stays applied."""

    def __init__(self, message: str, counts: IngestCounts) -> None:
        super().__init__(message)
        self.counts = counts


_TOUCH_EVERY_S = 5.0  # how often a run records that it is still making progress


class IngestBusy(StewardError):
    """Another ingest (a manual one or `steward run`'s job) is writing to this data directory."""


@contextlib.contextmanager
def exclusive_ingest(home: Path) -> Iterator[None]:
    """Hold `<home>/ingest.lock` while ingesting and indexing, or IngestBusy at once.

    Two ingests writing the same proposals raced each other's inserts; one at a time
    per data directory keeps the store and the index consistent.
    """
    from agent.voting.lock import InstanceLock, LockHeld

    try:
        lock = InstanceLock(DataHome(home).ingest_lock).acquire()
    except LockHeld as held:
        who = f"process {held.pid}" if held.pid else "another process"
        raise IngestBusy(
            f"another ingest ({who}) is writing to {home}; "
            "wait for it to finish, then run this again"
        ) from None
    try:
        yield
    finally:
        lock.release()


def ingest(
    source: ProposalSource,
    store: RecordStore,
    *,
    scopes: list[str] | None = None,
    full: bool = False,
    votes: bool = True,
    progress: Progress | None = None,
    on_synced: Callable[[str, str], None] | None = None,
) -> IngestCounts:
    """Sync every scope of `source` into `store`; records the run either way.
    `on_synced(source, scope)` hears of each scope read to the end (ingest lag)."""
    progress = progress or NoProgress()
    scopes = scopes or source.scopes()
    counts = IngestCounts()
    run_id = store.start_run(source.name, scopes)
    touched = time.monotonic()
    try:
        for scope in scopes:
            progress.start(f"{source.name}:{scope}")
            for item in source.sync(scope, store, full=full, votes=votes):
                _apply(item, store, counts)
                progress.advance(f"{source.name}:{scope}", _size(item), _note(item))
                if time.monotonic() - touched >= _TOUCH_EVERY_S:
                    store.touch_run(run_id)
                    touched = time.monotonic()
            if on_synced is not None:
                on_synced(source.name, scope)
    except BaseException as exc:
        message = str(exc) or exc.__class__.__name__
        store.finish_run(run_id, "failed", counts.model_dump(), message)
        if isinstance(exc, StewardError | KeyboardInterrupt):
            raise IngestFailed(f"ingest from {source.name} stopped: {message}", counts) from exc
        raise
    store.finish_run(run_id, "ok", counts.model_dump())
    return counts


def _apply(item: SyncItem, store: RecordStore, counts: IngestCounts) -> None:
    if isinstance(item, SpaceSeen):
        store.upsert_space(item.space)
        counts.spaces += 1
    elif isinstance(item, ProposalPage):
        for change in store.apply_proposals(item.proposals, item.cursor):
            setattr(counts, change.kind, getattr(counts, change.kind) + 1)
            if change.content_changed and change.kind != "new":
                counts.edited += 1
    elif isinstance(item, ProposalsGone):
        counts.deleted += store.mark_deleted(item.uids)
    elif isinstance(item, VotePage):
        complete = item.proposal_uid if item.complete else None
        counts.votes += store.apply_votes(item.votes, item.cursor, complete_uid=complete)
    elif isinstance(item, VotesComplete):
        store.mark_votes_complete(item.uids)
    elif isinstance(item, Rewind):
        counts.reorgs += 1
        counts.votes_rewound += store.rewind_votes(
            item.cursor.source, item.space, item.from_block, item.cursor
        )


def _size(item: SyncItem) -> int:
    if isinstance(item, ProposalPage):
        return len(item.proposals)
    if isinstance(item, VotePage):
        return len(item.votes)
    return 0


def _note(item: SyncItem) -> str | None:
    if isinstance(item, VotePage):
        return f"votes of {item.proposal_uid}"
    if isinstance(item, ProposalPage):
        return "proposals"
    return None
