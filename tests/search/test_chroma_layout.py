"""ChromaIndex's layout on a real embedded Chroma: a collection per space, flagged apart."""

from __future__ import annotations

from pathlib import Path

import numpy as np

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
