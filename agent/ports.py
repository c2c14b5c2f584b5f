"""The small interfaces `agent/` needs from the outside world.

Connectors implement them; tests swap in local counterparts. Nothing here
imports a connector.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple, Protocol

from pydantic import BaseModel, ConfigDict, Field

from agent.cursors import CursorUpdate, ProposalRef
from agent.models import Proposal, Space, Vote
from agent.store.fulltext import TextHit
from agent.store.records import StoredProposal


class SpaceSeen(BaseModel):
    """The source's current description of a space."""

    model_config = ConfigDict(frozen=True)
    space: Space


class ProposalPage(BaseModel):
    """Proposals to upsert, and the cursor that covers them."""

    model_config = ConfigDict(frozen=True)
    proposals: list[Proposal]
    cursor: CursorUpdate | None = None


class ProposalsGone(BaseModel):
    """Stored proposals the source no longer has (deleted at the source)."""

    model_config = ConfigDict(frozen=True)
    uids: list[str]


class VotePage(BaseModel):
    """Votes of one proposal; `complete` once no more can arrive."""

    model_config = ConfigDict(frozen=True)
    proposal_uid: str
    votes: list[Vote]
    cursor: CursorUpdate | None = None
    complete: bool = False


class VotesComplete(BaseModel):
    """Proposals that can receive no more votes, marked together (one transaction)."""

    model_config = ConfigDict(frozen=True)
    uids: list[str]


class Rewind(BaseModel):
    """A chain reorg undid blocks from `from_block` on: forget their votes, move the cursor.

    The source then re-reads those blocks and re-checks the proposals they touched.
    """

    model_config = ConfigDict(frozen=True)
    space: str
    from_block: int
    cursor: CursorUpdate


SyncItem = SpaceSeen | ProposalPage | ProposalsGone | VotePage | VotesComplete | Rewind


class SyncState(Protocol):
    """What a source may read of the store to plan an incremental sync."""

    def get_cursor(self, source: str, scope: str) -> dict[str, Any] | None: ...

    def refs(self, source: str, space: str) -> list[ProposalRef]: ...

    def vote_count(self, uid: str) -> int: ...

    def get(self, uid: str) -> StoredProposal | None: ...


class ProposalSource(Protocol):
    """A place proposals come from: Snapshot, a Governor, an archive file."""

    name: str

    def scopes(self) -> list[str]:
        """The spaces (or governors) this source will sync."""
        ...

    def sync(
        self, scope: str, state: SyncState, *, full: bool = False, votes: bool = True
    ) -> Iterator[SyncItem]:
        """Yield changes in order; each is applied before the next is pulled."""
        ...


class Embedder(Protocol):
    """Turns text into vectors (the bundled MiniLM by default)."""

    model_name: str

    @property
    def max_tokens(self) -> int:
        """The model reads this many tokens of a text and ignores the rest."""
        ...

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...


class Chunk(BaseModel):
    """A piece of a proposal as stored in the vector index."""

    model_config = ConfigDict(frozen=True)
    id: str
    proposal_uid: str
    index: int
    text: str
    metadata: dict[str, str | int | float | bool] = Field(default_factory=dict)


class ChunkHit(BaseModel):
    model_config = ConfigDict(frozen=True)
    chunk_id: str
    proposal_uid: str
    text: str
    distance: float
    metadata: dict[str, Any]


class TextIndex(Protocol):
    """Proposals queryable by the words they contain (BM25 or similar)."""

    def text_search(
        self,
        query: str,
        *,
        limit: int,
        spaces: Sequence[str] = (),
        include_flagged: bool = False,
    ) -> list[TextHit]: ...


class VectorIndex(Protocol):
    """Passages (chunks) of proposals with their vectors, queryable by similarity
    (`agent.passage_index.PassageIndex` over the record store and a `Vectors` store)."""

    def replace(
        self, uid: str, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]
    ) -> None:
        """Make `chunks` the only chunks of proposal `uid`."""
        ...

    def replace_many(
        self, items: Sequence[tuple[str, Sequence[Chunk], Sequence[Sequence[float]]]]
    ) -> None:
        """`replace` for many proposals at once (uid, chunks, vectors): one bulk write."""
        ...

    def vectors_for(
        self, text_keys: Sequence[str], *, spaces: Sequence[str] = ()
    ) -> dict[str, list[float]]:
        """Stored vectors of chunks (in `spaces`; all when empty) whose `text_key` is given."""
        ...

    def relabel(self, uid: str, metadata: dict[str, str | int | float | bool]) -> int:
        """Update metadata of every chunk of `uid` without re-embedding."""
        ...

    def remove(self, uid: str) -> None: ...

    def vectors(self, uid: str, *, space: str | None = None) -> list[list[float]]:
        """The stored vectors of `uid`'s chunks (in `space`, when known), in chunk order
        ([] when not indexed)."""
        ...

    def query(
        self,
        vector: Sequence[float],
        *,
        limit: int,
        spaces: Sequence[str] = (),
        uids: Sequence[str] = (),
        include_flagged: bool = False,
    ) -> list[ChunkHit]:
        """The `limit` nearest chunks in `spaces` (all when empty), only of `uids` if given,
        never of a flagged proposal unless `include_flagged`."""
        ...

    def count(self) -> int: ...

    def heartbeat(self) -> None:
        """Ask the store for a sign of life (cheap); raise `StoreError` when it gives none."""
        ...


class VectorKey(NamedTuple):
    """Where a passage's vector lives: its id, in its space's graph, or with the flagged."""

    id: str
    space: str
    flagged: bool


class OldPassage(NamedTuple):
    """A passage found in a vector-store layout from before, with its text and metadata."""

    id: str
    vector: list[float]
    text: str
    metadata: dict[str, Any]


class Vectors(Protocol):
    """Bare vectors by passage id, nearest-neighbour searchable across or within spaces.

    The texts live in the record store (`agent.passage_index.PassageIndex` joins them):
    a vector store that indexes no text writes several times faster."""

    def put(self, keys: Sequence[VectorKey], vectors: Sequence[Sequence[float]]) -> None:
        """Insert or overwrite the vectors under `keys`."""
        ...

    def drop(self, keys: Sequence[VectorKey]) -> None: ...

    def move(self, moves: Sequence[tuple[VectorKey, VectorKey]]) -> None:
        """Move vectors (old key, new key: same id) to another space or flag, the new copy
        written before the old is dropped; the vectors are found wherever they are."""
        ...

    def get(self, keys: Sequence[VectorKey]) -> dict[str, list[float]]:
        """Stored vectors by id (ids not stored are left out)."""
        ...

    def nearest(
        self,
        vector: Sequence[float],
        *,
        limit: int,
        spaces: Sequence[str] = (),
        include_flagged: bool = False,
    ) -> list[tuple[str, float]]:
        """(id, cosine distance) of the `limit` nearest vectors in `spaces` (all when empty),
        nearest first; flagged ones only with `include_flagged`."""
        ...

    def count(self) -> int: ...

    def heartbeat(self) -> None:
        """Ask the store for a sign of life (cheap); raise `StoreError` when it gives none."""
        ...

    def old_passages(self) -> list[OldPassage]:
        """A page of passages still held in a layout from before ([] once none is left)."""
        ...

    def forget_old(self, ids: Sequence[str]) -> None:
        """Drop moved passages from the layouts from before (and those layouts once empty)."""
        ...
