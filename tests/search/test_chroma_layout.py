"""ChromaIndex's layout on a real embedded Chroma: a main collection, a lean graph per space,
flagged apart."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agent.ports import Chunk
from connectors.chroma_index import ChromaIndex, open_chroma_client


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


def test_spaces_are_queried_apart_and_merged_by_distance(tmp_path: Path) -> None:
    index = ChromaIndex(open_chroma_client(url=None, path=tmp_path), "steward-test")
    index.replace_many(
        [
            ("a:1", _chunks("a:1", "a.eth"), [_unit(0), _unit(1)]),
            ("b:1", _chunks("b:1", "b.eth"), [_unit(2), _unit(3)]),
            ("a:2", _chunks("a:2", "a.eth", flagged=True), [_unit(0), _unit(0)]),
        ]
    )
    assert index.count() == 6
    assert {h.proposal_uid for h in index.query(_unit(0), limit=10, spaces=["a.eth"])} == {"a:1"}
    both = index.query(_unit(2), limit=10)
    assert both[0].proposal_uid == "b:1"
    assert [h.distance for h in both] == sorted(h.distance for h in both)
    everything = index.query(_unit(0), limit=10, include_flagged=True)
    assert {h.proposal_uid for h in everything} == {"a:1", "a:2", "b:1"}
    only = index.query(_unit(0), limit=10, uids=["b:1"], spaces=["b.eth"])
    assert {h.proposal_uid for h in only} == {"b:1"}
    assert set(index.vectors_for(["b:1-k", "zz"], spaces=["b.eth"])) == {"b:1-k"}


def test_flagging_moves_chunks_and_removal_finds_them(tmp_path: Path) -> None:
    index = ChromaIndex(open_chroma_client(url=None, path=tmp_path), "steward-test")
    index.replace("a:1", _chunks("a:1", "a.eth"), [_unit(0), _unit(1)])
    assert index.relabel("a:1", {"space": "a.eth", "flagged": True, "state": "closed"}) == 2
    assert index.query(_unit(0), limit=5) == []
    flagged = index.query(_unit(0), limit=5, include_flagged=True)
    assert {h.metadata["state"] for h in flagged} == {"closed"}
    index.relabel("a:1", {"flagged": False})  # without a space: every collection is looked at
    assert len(index.query(_unit(0), limit=5)) == 2
    index.replace("a:1", _chunks("a:1", "a.eth", n=1), [_unit(4)])  # an edit replaces all
    assert index.count() == 1
    index.remove("a:1")
    assert index.count() == 0


def test_a_single_collection_from_before_is_moved_without_re_embedding(tmp_path: Path) -> None:
    client = open_chroma_client(url=None, path=tmp_path)
    old = client.create_collection(
        "steward-test", embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
    )
    chunks = _chunks("a:1", "a.eth") + _chunks("b:1", "b.eth", flagged=True)
    old.add(
        ids=[c.id for c in chunks],
        embeddings=[_unit(i) for i in range(4)],
        documents=[c.text for c in chunks],
        metadatas=[dict(c.metadata) for c in chunks],
    )
    index = ChromaIndex(client, "steward-test")
    assert index.count() == 4
    assert "steward-test" not in [c.name for c in client.list_collections()]
    hits = index.query(_unit(0), limit=1, spaces=["a.eth"])
    assert hits[0].chunk_id == "a:1#0" and hits[0].distance < 1e-5
    assert len(index.query(_unit(0), limit=10, include_flagged=True)) == 4


def _layout(index: ChromaIndex) -> dict[str, Any]:
    """What each collection holds: ids with metadata and vectors."""
    out = {}
    for name in index._names():
        col = index._client.get_collection(name, embedding_function=None)
        got = col.get(include=["metadatas", "embeddings"])
        out[name] = {
            cid: (meta, list(vec))
            for cid, meta, vec in zip(got["ids"], got["metadatas"], got["embeddings"], strict=True)
        }
    return out


def _assert_mirrored(index: ChromaIndex) -> None:
    """Every unflagged chunk is in main and in its own space's lean graph with the same vector,
    nothing else is in a lean graph, and flagged chunks are only in the flagged collection."""
    layout = _layout(index)
    main = layout.get(index._main, {})
    flagged = layout.get(index._flagged, {})
    lean_ids: set[str] = set()
    for name, rows in layout.items():
        if name in (index._main, index._flagged):
            continue
        for cid, (meta, vec) in rows.items():
            assert cid in main, f"{cid} in {name} but not in main"
            assert index._lean(main[cid][0]["space"]) == name
            assert (
                np.allclose(vec, main[cid][1])
                and meta["proposal_uid"] == main[cid][0]["proposal_uid"]
            )
            lean_ids.add(cid)
    assert lean_ids == set(main)
    assert not any(m["flagged"] for m, _ in main.values())
    assert all(m["flagged"] for m, _ in flagged.values()) and not set(flagged) & set(main)


def test_lean_graphs_mirror_main_through_edits_relabels_and_removal(tmp_path: Path) -> None:
    index = ChromaIndex(open_chroma_client(url=None, path=tmp_path), "steward-test")
    index.replace_many(
        [
            ("a:1", _chunks("a:1", "a.eth", n=3), [_unit(0), _unit(1), _unit(2)]),
            ("b:1", _chunks("b:1", "b.eth"), [_unit(3), _unit(4)]),
            ("b:2", _chunks("b:2", "b.eth", flagged=True), [_unit(5), _unit(6)]),
        ]
    )
    _assert_mirrored(index)
    index.replace("a:1", _chunks("a:1", "a.eth", n=1), [_unit(7)])  # edited: fewer chunks
    _assert_mirrored(index)
    assert index.count() == 5
    index.relabel("b:1", {"space": "b.eth", "flagged": True, "state": "closed"})
    _assert_mirrored(index)
    assert index.query(_unit(3), limit=5, spaces=["b.eth"]) == []
    index.relabel("b:2", {"space": "b.eth", "flagged": False})
    _assert_mirrored(index)
    assert {h.proposal_uid for h in index.query(_unit(5), limit=5, spaces=["b.eth"])} == {"b:2"}
    index.relabel("a:1", {"space": "c.eth", "state": "active"})  # a space change moves the graph
    _assert_mirrored(index)
    assert [h.proposal_uid for h in index.query(_unit(7), limit=5, spaces=["c.eth"])] == ["a:1"]
    assert index.query(_unit(7), limit=5, spaces=["a.eth"]) == []
    for uid in ("a:1", "b:1", "b:2"):
        index.remove(uid)
    _assert_mirrored(index)
    assert index.count() == 0 and all(not rows for rows in _layout(index).values())


def test_queries_return_the_exact_nearest_chunks(tmp_path: Path) -> None:
    """Every query shape against a brute-force ranking of the same vectors (small graphs are
    searched exactly, so any difference is a bug in routing or merging, not approximation)."""
    rng = np.random.default_rng(7)
    spaces = ["a.eth", "b.eth", "c.eth"]
    items, rows = [], []
    for p in range(60):
        uid, space, flagged = f"p:{p}", spaces[p % 3], p % 7 == 0
        vecs = rng.normal(size=(3, 16))
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        items.append((uid, _chunks(uid, space, n=3, flagged=flagged), vecs.tolist()))
        rows += [(f"{uid}#{i}", uid, space, flagged, vecs[i]) for i in range(3)]
    index = ChromaIndex(open_chroma_client(url=None, path=tmp_path), "steward-test")
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
        {"spaces": ["b.eth", "c.eth"], "uids": uids, "include_flagged": True},
    ]
    for _ in range(5):
        q = rng.normal(size=16)
        q /= np.linalg.norm(q)
        for kw in shapes:
            hits = index.query(q.tolist(), limit=8, **kw)
            assert [h.chunk_id for h in hits] == exact(q, 8, **kw), kw
            assert all(h.text and h.metadata["proposal_uid"] == h.proposal_uid for h in hits)


def test_the_per_space_layout_from_before_is_moved_without_re_embedding(tmp_path: Path) -> None:
    client = open_chroma_client(url=None, path=tmp_path)
    for space, flagged, uid in (("a.eth", False, "a:1"), ("a.eth", True, "a:2")):
        name = "steward-test." + hashlib.sha256(space.encode()).hexdigest()[:20]
        old = client.create_collection(
            name + (".flagged" if flagged else ""),
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
        )
        chunks = _chunks(uid, space, flagged=flagged)
        old.add(
            ids=[c.id for c in chunks],
            embeddings=[_unit(0), _unit(1)],
            documents=[c.text for c in chunks],
            metadatas=[dict(c.metadata) for c in chunks],
        )
    index = ChromaIndex(client, "steward-test")
    assert index.count() == 4
    _assert_mirrored(index)
    names = {c.name for c in client.list_collections()}
    assert names == {"steward-test.all", "steward-test.flagged", index._lean("a.eth")}
    hits = index.query(_unit(0), limit=1, spaces=["a.eth"])
    assert hits[0].chunk_id == "a:1#0" and hits[0].text == "a:1 0"


def test_a_write_cut_short_before_the_lean_graph_heals_on_the_next_replace(
    tmp_path: Path, monkeypatch: Any
) -> None:
    index = ChromaIndex(open_chroma_client(url=None, path=tmp_path), "steward-test")
    real_add = ChromaIndex._add

    def crash_on_lean(self: ChromaIndex, name: str, rows: Any, **kw: Any) -> None:
        if kw.get("lean"):
            raise OSError("killed")
        real_add(self, name, rows, **kw)

    monkeypatch.setattr(ChromaIndex, "_add", crash_on_lean)
    with pytest.raises(OSError):
        index.replace("a:1", _chunks("a:1", "a.eth"), [_unit(0), _unit(1)])
    assert index.count() == 2  # in main, not in the lean graph
    monkeypatch.setattr(ChromaIndex, "_add", real_add)
    index.replace("a:1", _chunks("a:1", "a.eth"), [_unit(0), _unit(1)])  # the indexer's retry
    _assert_mirrored(index)
    assert {h.chunk_id for h in index.query(_unit(0), limit=5, spaces=["a.eth"])} == {
        "a:1#0",
        "a:1#1",
    }


def test_graphs_are_searched_wide_including_ones_made_before(tmp_path: Path) -> None:
    """Main and space graphs search with ef 400; graphs an older Steward made with Chroma's
    default width (100) are widened on open, their rows untouched."""
    client = open_chroma_client(url=None, path=tmp_path)
    index = ChromaIndex(client, "steward-test")
    index.replace("a:1", _chunks("a:1", "a.eth"), [_unit(0), _unit(1)])
    names = sorted(str(getattr(c, "name", c)) for c in client.list_collections())
    lean = next(n for n in names if ".space." in n)
    for name in ("steward-test.all", lean):
        col = client.get_collection(name)
        assert col.configuration["hnsw"]["ef_search"] == 400
        col.modify(configuration={"hnsw": {"ef_search": 100}})  # as an older Steward left it
    reopened = ChromaIndex(open_chroma_client(url=None, path=tmp_path), "steward-test")
    assert {h.proposal_uid for h in reopened.query(_unit(0), limit=5, spaces=["a.eth"])} == {"a:1"}
    assert len(reopened.query(_unit(0), limit=5)) == 2
    for name in ("steward-test.all", lean):
        assert client.get_collection(name).configuration["hnsw"]["ef_search"] == 400
        assert client.get_collection(name).count() == 2
