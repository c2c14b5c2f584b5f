"""Hybrid search over real Chroma, the bundled MiniLM and the store's full-text index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.indexer import sync_index
from agent.models import Proposal
from agent.passage_index import PassageIndex
from agent.search import score_fusion, search
from agent.settings import ChunkingSettings
from agent.store import RecordStore
from tests.indexes import chroma_index

BOILERPLATE = (
    "This proposal follows the process in MIP0. Core units report monthly to the forum "
    "and publish their budgets."
)
CORE_UNITS = [
    ("SES-001", "Sustainable Ecosystem Scaling", "incubates new core units and mentors teams"),
    ("GRO-001", "Growth", "brings new collateral types and partners to the protocol"),
    ("DUX-001", "Development and UX", "builds the governance portal and the vote dashboard"),
    ("EVENTS-001", "Events", "runs the yearly conference and community meetups"),
]


def _proposal(code: str, name: str, what: str, space: str = "maker") -> Proposal:
    return Proposal(
        source="archive",
        space=space,
        id=code,
        title=f"Budget for the {name} core unit",
        body=f"{BOILERPLATE}\n\nThe {name} core unit ({code}) {what}.",
        state="closed",
    )


@pytest.fixture
def indexed(tmp_path: Path, embedder: Any) -> Iterator[tuple[RecordStore, PassageIndex]]:
    store = RecordStore(f"sqlite:///{tmp_path / 'steward.db'}")
    store.apply_proposals([_proposal(*row) for row in CORE_UNITS])
    index = chroma_index(store, tmp_path / "chroma", "hybrid")
    sync_index(store, index, lambda: embedder, ChunkingSettings(max_words=30, overlap_words=0))
    yield store, index
    store.close()


def test_a_rare_code_word_puts_its_proposal_first(indexed: Any, embedder: Any) -> None:
    store, index = indexed
    hits = search("what did EVENTS-001 ask for?", index, embedder, limit=4, text_index=store)
    assert hits[0].uid == "archive:EVENTS-001"
    assert hits[0].passage and 0 < hits[0].score <= 1  # still the best chunk's cosine
    assert len({h.uid for h in hits}) == len(hits) == 4


def test_space_filter_and_flagged_hold_in_both_rankings(indexed: Any, embedder: Any) -> None:
    store, index = indexed
    other = _proposal("XCU-001", "Events abroad", "runs EVENTS-001 style meetups", space="other")
    spam = _proposal("SPAM-001", "EVENTS-001 giveaway", "claims EVENTS-001 airdrops")
    spam = spam.model_copy(update={"flagged": True})
    store.apply_proposals([other, spam])
    sync_index(store, index, lambda: embedder, ChunkingSettings(max_words=30, overlap_words=0))
    hits = search("EVENTS-001", index, embedder, spaces=["maker"], limit=10, text_index=store)
    assert {h.space for h in hits} == {"maker"}
    assert "archive:SPAM-001" not in {h.uid for h in hits}
    flagged = search(
        "EVENTS-001", index, embedder, limit=10, text_index=store, include_flagged=True
    )
    assert "archive:SPAM-001" in {h.uid for h in flagged}


def test_without_a_text_index_search_is_dense_only(indexed: Any, embedder: Any) -> None:
    _, index = indexed
    dense = search("conference and meetups", index, embedder, limit=4)
    assert dense[0].uid == "archive:EVENTS-001"


def test_score_fusion_keeps_the_margin_a_ranking_is_sure_of() -> None:
    dense = [("a", 0.80), ("b", 0.79), ("c", 0.10)]  # a and b nearly tied
    words = [("b", 30.0), ("a", 2.0), ("c", 1.0)]  # b far ahead
    assert score_fusion([dense, words]) == ["b", "a", "c"]
    assert score_fusion([dense, []]) == ["a", "b", "c"]
