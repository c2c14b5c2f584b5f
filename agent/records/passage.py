"""A passage (chunk) of a proposal as the record store keeps it for search.

The vector index holds only vectors under the passage's id; the text, and where the
vector lives (its space, and whether it sits with the flagged ones), are here.
"""

from __future__ import annotations

from typing import NamedTuple

from pydantic import BaseModel, ConfigDict


class Passage(BaseModel):
    model_config = ConfigDict(frozen=True)
    chunk_id: str
    proposal_uid: str
    space: str
    """The space graph the vector was written to (the proposal's space then)."""
    flagged: bool
    """Whether the vector sits with the flagged proposals' vectors."""
    chunk: int
    text_key: str
    """Content address of the vector: the same text under the same model
    (`agent.indexer.text_key`); empty for passages moved from an index that had none."""
    text: str


class PassageKey(NamedTuple):
    """Where a passage's vector lives, without its text (what most index writes need)."""

    chunk_id: str
    space: str
    flagged: bool


class PassageView(Passage):
    """A passage with what a search hit shows of its proposal, read at query time."""

    title: str = ""
    state: str = ""
    source: str = ""
    created_ts: int = 0
    proposal_flagged: bool | None = None
    """The proposal's flag now (None: the proposal is no longer stored)."""
