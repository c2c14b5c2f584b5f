"""The record store's full-text index, on SQLite (FTS5) and on a real PostgreSQL (tsvector)."""

from __future__ import annotations

from agent.store import RecordStore
from agent.store.fulltext import query_terms
from tests.test_store import _p

LIST_XSUSHI = _p(
    "0x1",
    title="Add xSUSHI to the V2 market",
    body="Enable the yield-bearing token as collateral with a 65% loan-to-value ratio.",
)
OFFBOARD = _p(
    "0x2",
    title="Offboard the Events core unit",
    body="The EVENTS-001 unit stops its activities; its budget returns to the surplus buffer.",
)
FEES = _p(
    "0x3",
    space="b.eth",
    title="Lower registration fees",
    body="Registration of short names costs less; the market decides the rest.",
)


def _uids(store: RecordStore, query: str, **kw: object) -> list[str]:
    return [h.uid for h in store.text_search(query, limit=5, **kw)]  # type: ignore[arg-type]


def test_sync_writes_only_what_changed(store: RecordStore) -> None:
    store.apply_proposals([LIST_XSUSHI, OFFBOARD])
    assert store.sync_text_index().indexed == 2
    assert store.sync_text_index().model_dump() == {"indexed": 0, "removed": 0}
    store.apply_proposals([OFFBOARD.model_copy(update={"body": "The surplus buffer grows."})])
    assert store.sync_text_index().indexed == 1
    assert _uids(store, "activities") == []
    assert _uids(store, "surplus buffer") == ["snapshot:0x2"]
    store.mark_deleted(["snapshot:0x2"])
    assert store.sync_text_index().removed == 1
    assert _uids(store, "surplus buffer") == []


def test_rare_words_find_their_proposal_and_filters_hold(store: RecordStore) -> None:
    store.apply_proposals(
        [LIST_XSUSHI, OFFBOARD, FEES, _p("0x4", title="Spam xSUSHI", flagged=True)]
    )
    store.sync_text_index()
    assert _uids(store, "What about the events-001 core unit?") == ["snapshot:0x2"]
    assert _uids(store, "xsushi collateral")[0] == "snapshot:0x1"
    assert "snapshot:0x4" not in _uids(store, "xsushi")
    assert "snapshot:0x4" in _uids(store, "xsushi", include_flagged=True)
    assert _uids(store, "market", spaces=["b.eth"]) == ["snapshot:0x3"]
    assert set(_uids(store, "market", spaces=["a.eth", "b.eth"])) == {
        "snapshot:0x1",
        "snapshot:0x3",
    }


def test_a_title_word_outweighs_the_same_word_in_a_body(store: RecordStore) -> None:
    store.apply_proposals(
        [
            _p("0x5", title="Treasury report", body="Numbers for the quarter and registration."),
            _p("0x6", title="Registration report", body="Numbers for the quarter and treasury."),
        ]
    )
    store.sync_text_index()
    assert _uids(store, "registration")[0] == "snapshot:0x6"
    assert _uids(store, "treasury")[0] == "snapshot:0x5"


def test_questions_of_function_words_only_match_nothing(store: RecordStore) -> None:
    store.apply_proposals([LIST_XSUSHI])
    store.sync_text_index()
    assert query_terms('What is "the" -- it? OR AND NEAR(') == ["near"]
    assert _uids(store, "what is it, and how?") == []
    assert _uids(store, 'xsushi" OR "x') == ["snapshot:0x1"]  # FTS5 syntax is never passed through
