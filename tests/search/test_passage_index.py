"""PassageIndex on a real store and a real embedded Chroma: texts in the store's passages
table, bare vectors in a main graph and a graph per space, flagged apart."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agent import passage_index
from agent.models import Proposal
from agent.passage_index import PassageIndex
from agent.ports import Chunk, VectorKey
from agent.store import RecordStore
from connectors.chroma_index import ChromaVectors, open_chroma_client


def _unit(i: int) -> list[float]:
    v = np.zeros(8)
    v[i % 8], v[(i + 1) % 8] = 1.0, 0.1 * i
    return list(v / np.linalg.norm(v))


def _chunks(uid: str, space: str, n: int = 2, flagged: bool = False) -> list[Chunk]:
    meta = {"proposal_uid": uid, "space": space, "flagged": flagged, "text_key": f"{uid}-k"}
    return [
        Chunk(id=f"{uid}#{i}", proposal_uid=uid, index=i, text=f"{uid} {i}", metadata=meta)
        for i in range(n)
    ]


def _open(tmp_path: Path, name: str = "steward-test") -> PassageIndex:
    store = RecordStore(f"sqlite:///{tmp_path / 'steward.db'}")
    return PassageIndex(store, ChromaVectors(open_chroma_client(url=None, path=tmp_path), name))


def _vectors(index: PassageIndex) -> ChromaVectors:
    assert isinstance(index.graphs, ChromaVectors)
    return index.graphs


def _layout(vectors: ChromaVectors) -> dict[str, dict[str, tuple[Any, list[float]]]]:
    """What each collection holds: ids with metadata and vectors."""
    out = {}
    for name in vectors._names():
        col = vectors._client.get_collection(name, embedding_function=None)
        got = col.get(include=["metadatas", "embeddings"])
        out[name] = {
            cid: (meta, list(vec))
            for cid, meta, vec in zip(got["ids"], got["metadatas"], got["embeddings"], strict=True)
        }
    return out


def _assert_consistent(index: PassageIndex) -> None:
    """Every passage has its vector where its row says (main and its space's graph, or the
    flagged collection with its space), the copies agree, the searched graphs hold no
    text or metadata, and no vector is without a passage."""
    vectors = _vectors(index)
    layout = _layout(vectors)
    main = layout.get(vectors._main, {})
    flagged = layout.get(vectors._flagged, {})
    with index.store.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT chunk_id, space, flagged FROM passages").all()
    expected_lean: dict[str, set[str]] = {}
    for cid, space, is_flagged in rows:
        if is_flagged:
            assert cid in flagged and cid not in main
            assert flagged[cid][0] == {"space": space}
        else:
            assert cid in main and cid not in flagged
            expected_lean.setdefault(vectors._lean(space), set()).add(cid)
    assert set(main) | set(flagged) == {r[0] for r in rows}
    for name, held in layout.items():
        if name in (vectors._main, vectors._flagged):
            continue
        assert set(held) == expected_lean.get(name, set()), name
        for cid, (meta, vec) in held.items():
            assert not meta and np.allclose(vec, main[cid][1])
    assert all(not meta for meta, _ in main.values())
    raw = vectors._client.get_collection(vectors._main, embedding_function=None)
    assert all(doc is None for doc in raw.get(include=["documents"])["documents"])


def test_spaces_are_queried_apart_and_merged_by_distance(tmp_path: Path) -> None:
    index = _open(tmp_path)
    index.replace_many(
        [
            ("a:1", _chunks("a:1", "a.eth"), [_unit(0), _unit(1)]),
            ("b:1", _chunks("b:1", "b.eth"), [_unit(2), _unit(3)]),
            ("a:2", _chunks("a:2", "a.eth", flagged=True), [_unit(0), _unit(0)]),
        ]
    )
    _assert_consistent(index)
    assert index.count() == 6
    assert {h.proposal_uid for h in index.query(_unit(0), limit=10, spaces=["a.eth"])} == {"a:1"}
    both = index.query(_unit(2), limit=10)
    assert both[0].proposal_uid == "b:1" and both[0].text == "b:1 0"
    assert [h.distance for h in both] == sorted(h.distance for h in both)
    everything = index.query(_unit(0), limit=10, include_flagged=True)
    assert {h.proposal_uid for h in everything} == {"a:1", "a:2", "b:1"}
    only = index.query(_unit(0), limit=10, uids=["b:1"], spaces=["b.eth"])
    assert {h.proposal_uid for h in only} == {"b:1"}
    assert set(index.vectors_for(["b:1-k", "zz"], spaces=["b.eth"])) == {"b:1-k"}
    assert np.allclose(index.vectors("a:1"), [_unit(0), _unit(1)], atol=1e-6)


def test_a_hit_shows_its_proposal_as_it_is_now(tmp_path: Path) -> None:
    """Title, state and flag come from the proposal at query time: a state change needs no
    write to the vector store, and a flag the index has not caught up with still hides it."""
    index = _open(tmp_path)
    proposal = Proposal(
        source="snapshot",
        space="a.eth",
        id="0x1",
        title="Fund **grants**",
        body="b",
        state="active",
    )
    index.store.apply_proposals([proposal])
    index.replace(proposal.uid, _chunks(proposal.uid, "a.eth"), [_unit(0), _unit(1)])
    [hit, _] = index.query(_unit(0), limit=2)
    assert hit.metadata["title"] == "Fund grants" and hit.metadata["state"] == "active"
    assert hit.metadata["flagged"] is False and hit.metadata["source"] == "snapshot"
    index.store.apply_proposals([proposal.model_copy(update={"state": "closed", "flagged": True})])
    [hit, _] = index.query(_unit(0), limit=2)
    assert hit.metadata["state"] == "closed" and hit.metadata["flagged"] is True


def test_flagging_moves_vectors_and_removal_finds_them(tmp_path: Path) -> None:
    index = _open(tmp_path)
    index.replace("a:1", _chunks("a:1", "a.eth"), [_unit(0), _unit(1)])
    assert index.relabel("a:1", {"space": "a.eth", "flagged": True, "state": "closed"}) == 2
    _assert_consistent(index)
    assert index.query(_unit(0), limit=5) == []
    assert len(index.query(_unit(0), limit=5, include_flagged=True)) == 2
    index.relabel("a:1", {"flagged": False})  # without a space: the passages' own is kept
    _assert_consistent(index)
    assert len(index.query(_unit(0), limit=5, spaces=["a.eth"])) == 2
    index.replace("a:1", _chunks("a:1", "a.eth", n=1), [_unit(4)])  # an edit replaces all
    _assert_consistent(index)
    assert index.count() == 1
    index.remove("a:1")
    _assert_consistent(index)
    assert index.count() == 0 and index.store.count_passages() == 0


def test_the_copies_agree_through_edits_relabels_and_removal(tmp_path: Path) -> None:
    index = _open(tmp_path)
    index.replace_many(
        [
            ("a:1", _chunks("a:1", "a.eth", n=3), [_unit(0), _unit(1), _unit(2)]),
            ("b:1", _chunks("b:1", "b.eth"), [_unit(3), _unit(4)]),
            ("b:2", _chunks("b:2", "b.eth", flagged=True), [_unit(5), _unit(6)]),
        ]
    )
    _assert_consistent(index)
    index.replace("a:1", _chunks("a:1", "a.eth", n=1), [_unit(7)])  # edited: fewer chunks
    _assert_consistent(index)
    assert index.count() == 5
    index.relabel("b:1", {"space": "b.eth", "flagged": True, "state": "closed"})
    _assert_consistent(index)
    assert index.query(_unit(3), limit=5, spaces=["b.eth"]) == []
    index.relabel("b:2", {"space": "b.eth", "flagged": False})
    _assert_consistent(index)
    assert {h.proposal_uid for h in index.query(_unit(5), limit=5, spaces=["b.eth"])} == {"b:2"}
    index.relabel("a:1", {"space": "c.eth", "state": "active"})  # a space change moves the graph
    _assert_consistent(index)
    assert [h.proposal_uid for h in index.query(_unit(7), limit=5, spaces=["c.eth"])] == ["a:1"]
    assert index.query(_unit(7), limit=5, spaces=["a.eth"]) == []
    for uid in ("a:1", "b:1", "b:2"):
        index.remove(uid)
    _assert_consistent(index)
    assert index.count() == 0 and all(not rows for rows in _layout(_vectors(index)).values())


@pytest.mark.parametrize("exact_max", [passage_index.EXACT_MAX, 4])
def test_queries_return_the_exact_nearest_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exact_max: int
) -> None:
    """Every query shape against a brute-force ranking of the same vectors (small graphs are
    searched exactly, so any difference is a bug in routing or merging, not approximation).
    A restriction to proposals is answered from their stored vectors, or (over `EXACT_MAX`)
    from the graph, asking for more until enough allowed hits are in."""
    monkeypatch.setattr(passage_index, "EXACT_MAX", exact_max)
    rng = np.random.default_rng(7)
    spaces = ["a.eth", "b.eth", "c.eth"]
    items, rows = [], []
    for p in range(60):
        uid, space, flagged = f"p:{p}", spaces[p % 3], p % 7 == 0
        vecs = rng.normal(size=(3, 16))
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        items.append((uid, _chunks(uid, space, n=3, flagged=flagged), vecs.tolist()))
        rows += [(f"{uid}#{i}", uid, space, flagged, vecs[i]) for i in range(3)]
    index = _open(tmp_path)
    index.replace_many(items)
    uids = [f"p:{p}" for p in range(0, 60, 4)]

    def exact(q: np.ndarray, limit: int, **kw: Any) -> list[str]:
        ok = [
            r
            for r in rows
            if (not kw.get("spaces") or r[2] in kw["spaces"])
            and (kw.get("include_flagged") or not r[3])
            and (not kw.get("uids") or r[1] in kw["uids"])
        ]
        return [r[0] for r in sorted(ok, key=lambda r: 1 - float(q @ r[4]))[:limit]]

    shapes: list[dict[str, Any]] = [
        {},
        {"spaces": ["b.eth"]},
        {"spaces": ["a.eth", "c.eth"]},
        {"include_flagged": True},
        {"spaces": ["a.eth"], "include_flagged": True},
        {"uids": uids},
        {"uids": uids[:2]},
        {"spaces": ["b.eth", "c.eth"], "uids": uids, "include_flagged": True},
    ]
    for _ in range(5):
        q = rng.normal(size=16)
        q /= np.linalg.norm(q)
        for kw in shapes:
            hits = index.query(q.tolist(), limit=8, **kw)
            assert [h.chunk_id for h in hits] == exact(q, 8, **kw), kw
            assert all(h.text and h.metadata["proposal_uid"] == h.proposal_uid for h in hits)
            want = {r[0]: 1 - float(q @ r[4]) for r in rows}
            assert all(abs(h.distance - want[h.chunk_id]) < 1e-4 for h in hits)


def _old_rows(chunks: list[Chunk]) -> dict[str, Any]:
    return {
        "ids": [c.id for c in chunks],
        "documents": [c.text for c in chunks],
        "metadatas": [dict(c.metadata) for c in chunks],
    }


def test_a_single_collection_from_before_is_moved_without_re_embedding(tmp_path: Path) -> None:
    client = open_chroma_client(url=None, path=tmp_path)
    old = client.create_collection(
        "steward-test", embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
    )
    chunks = _chunks("a:1", "a.eth") + _chunks("b:1", "b.eth", flagged=True)
    old.add(embeddings=[_unit(i) for i in range(4)], **_old_rows(chunks))
    index = _open(tmp_path)
    assert index.moved_from_before == 4 and index.count() == 4
    assert "steward-test" not in [c.name for c in client.list_collections()]
    _assert_consistent(index)
    hits = index.query(_unit(0), limit=1, spaces=["a.eth"])
    assert hits[0].chunk_id == "a:1#0" and hits[0].distance < 1e-5 and hits[0].text == "a:1 0"
    assert len(index.query(_unit(0), limit=10, include_flagged=True)) == 4
    assert set(index.vectors_for(["a:1-k", "b:1-k"])) == {"a:1-k", "b:1-k"}


def test_the_per_space_layout_from_before_is_moved_without_re_embedding(tmp_path: Path) -> None:
    client = open_chroma_client(url=None, path=tmp_path)
    for space, flagged, uid in (("a.eth", False, "a:1"), ("a.eth", True, "a:2")):
        name = "steward-test." + hashlib.sha256(space.encode()).hexdigest()[:20]
        old = client.create_collection(
            name + (".flagged" if flagged else ""),
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
        )
        old.add(embeddings=[_unit(0), _unit(1)], **_old_rows(_chunks(uid, space, flagged=flagged)))
    index = _open(tmp_path)
    assert index.count() == 4
    _assert_consistent(index)
    vectors = _vectors(index)
    names = {c.name for c in client.list_collections()}
    assert names == {vectors._main, vectors._flagged, vectors._lean("a.eth")}
    hits = index.query(_unit(0), limit=1, spaces=["a.eth"])
    assert hits[0].chunk_id == "a:1#0" and hits[0].text == "a:1 0"


def _texts_in_chroma(client: Any) -> None:
    """The layout of issue 14's second round: texts and metadata in `.all` and `.flagged`,
    a lean vectors-only graph per space."""
    cosine = {"hnsw": {"space": "cosine"}}
    main = client.create_collection(
        "steward-test.all", embedding_function=None, configuration=cosine
    )
    flagged = client.create_collection(
        "steward-test.flagged", embedding_function=None, configuration=cosine
    )
    lean = client.create_collection(
        "steward-test.space." + hashlib.sha256(b"a.eth").hexdigest()[:20],
        embedding_function=None,
        configuration=cosine,
    )
    plain = _chunks("a:1", "a.eth", n=3)
    main.add(embeddings=[_unit(i) for i in range(3)], **_old_rows(plain))
    lean.add(ids=[c.id for c in plain], embeddings=[_unit(i) for i in range(3)])
    flagged.add(embeddings=[_unit(5)], **_old_rows(_chunks("a:2", "a.eth", n=1, flagged=True)))


def test_texts_in_chroma_from_before_move_to_the_store(tmp_path: Path) -> None:
    client = open_chroma_client(url=None, path=tmp_path)
    _texts_in_chroma(client)
    index = _open(tmp_path)
    assert index.moved_from_before == 4 and index.store.count_passages() == 4
    _assert_consistent(index)
    vectors = _vectors(index)
    assert {c.name for c in client.list_collections()} == {
        vectors._main,
        vectors._flagged,
        vectors._lean("a.eth"),
    }
    assert [h.text for h in index.query(_unit(1), limit=1, spaces=["a.eth"])] == ["a:1 1"]
    assert _open(tmp_path).moved_from_before == 0  # a second open finds nothing to move


def test_a_move_cut_short_is_finished_on_the_next_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after a page's passages and vectors were written but before the old copies
    were dropped: the next open writes that page again (overwriting) and finishes."""
    client = open_chroma_client(url=None, path=tmp_path)
    _texts_in_chroma(client)

    def killed(self: ChromaVectors, ids: Any) -> None:
        raise OSError("killed")

    monkeypatch.setattr(ChromaVectors, "forget_old", killed)
    with pytest.raises(OSError):
        _open(tmp_path)
    monkeypatch.undo()
    index = _open(tmp_path)
    assert index.count() == 4 and index.store.count_passages() == 4
    _assert_consistent(index)


def test_a_write_cut_short_heals_on_the_next_replace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed before a space graph was written, or before any vector was: the passage rows
    are in, the proposal is not marked indexed, and the indexer's retry makes it whole."""
    index = _open(tmp_path)
    vectors = _vectors(index)
    real_upsert = ChromaVectors._upsert

    def crash_on_lean(self: ChromaVectors, name: str, rows: Any) -> None:
        if name != self._main:
            raise OSError("killed")
        real_upsert(self, name, rows)

    monkeypatch.setattr(ChromaVectors, "_upsert", crash_on_lean)
    with pytest.raises(OSError):
        index.replace("a:1", _chunks("a:1", "a.eth"), [_unit(0), _unit(1)])
    assert index.count() == 2 and index.query(_unit(0), limit=5, spaces=["a.eth"]) == []
    monkeypatch.setattr(ChromaVectors, "put", lambda *a, **k: (_ for _ in ()).throw(OSError()))
    with pytest.raises(OSError):
        index.replace("b:1", _chunks("b:1", "b.eth"), [_unit(2), _unit(3)])
    assert index.vectors_for(["b:1-k"]) == {}  # a passage without its vector is not reused
    monkeypatch.undo()
    index.replace("a:1", _chunks("a:1", "a.eth"), [_unit(0), _unit(1)])  # the indexer's retries
    index.replace("b:1", _chunks("b:1", "b.eth"), [_unit(2), _unit(3)])
    _assert_consistent(index)
    assert {h.chunk_id for h in index.query(_unit(0), limit=5, spaces=["a.eth"])} == {
        "a:1#0",
        "a:1#1",
    }
    assert vectors.count() == 4


def test_graphs_are_searched_wide_including_ones_made_before(tmp_path: Path) -> None:
    """Main and space graphs search with ef 400; graphs made with Chroma's default width
    (100) are widened on open, their rows untouched."""
    index = _open(tmp_path)
    index.replace("a:1", _chunks("a:1", "a.eth"), [_unit(0), _unit(1)])
    vectors = _vectors(index)
    client = vectors._client
    for name in (vectors._main, vectors._lean("a.eth")):
        col = client.get_collection(name)
        assert col.configuration["hnsw"]["ef_search"] == 400
        col.modify(configuration={"hnsw": {"ef_search": 100}})  # as an older Steward left it
    reopened = _open(tmp_path)
    assert {h.proposal_uid for h in reopened.query(_unit(0), limit=5, spaces=["a.eth"])} == {"a:1"}
    assert len(reopened.query(_unit(0), limit=5)) == 2
    for name in (vectors._main, vectors._lean("a.eth")):
        assert client.get_collection(name).configuration["hnsw"]["ef_search"] == 400
        assert client.get_collection(name).count() == 2


def test_a_worker_moving_the_same_old_index_at_once_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers started together after an upgrade all move the old layout: a collection one
    of them already dropped is skipped by the others, and the pages they both wrote are the
    same rows, overwritten."""
    client = open_chroma_client(url=None, path=tmp_path)
    _texts_in_chroma(client)
    listed = ChromaVectors._old_full
    monkeypatch.setattr(
        ChromaVectors, "_old_full", lambda self: ["steward-test.gone-meanwhile", *listed(self)]
    )
    first = _open(tmp_path)
    first.graphs.put(  # a page the other worker had written too
        [VectorKey("a:1#0", "a.eth", False)], [_unit(0)]
    )
    second = _open(tmp_path)
    assert first.moved_from_before == 4 and second.moved_from_before == 0
    assert second.count() == 4 and second.store.count_passages() == 4
    _assert_consistent(second)
