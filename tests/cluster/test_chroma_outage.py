"""Two real `steward run` workers on PostgreSQL index into a real Chroma server; the server
is stopped while a worker's index write is on its way (a proxy holds that request: an
event, not timing), new proposals arrive while it is down, and it is started again on the
same data. Afterwards the vector index holds exactly the chunks the record store's
bookkeeping says it does: one set per stored proposal, nothing lost or doubled; each worker
said once that the vector store was gone, and none died."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from agent.store import RecordStore
from tests import postgres
from tests.cluster.chroma_server import HoldingProxy, chroma_server
from tests.cluster.harness import (
    DAY,
    Worker,
    postgres_server,
    seed_spaces,
    wait_until,
    write_config,
)
from tests.fakes.snapshot_data import fake_hex
from tests.fakes.snapshot_hub import FakeHub

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        postgres.unavailable() is not None, reason=f"needs PostgreSQL: {postgres.unavailable()}"
    ),
]

SPACES, FIRST, LATER = 6, 2, 1
DOWN, BACK = "the vector store is not answering", "the vector store is back"


def _is_add(method: str, path: str) -> bool:
    return method == "POST" and path.endswith("/upsert")


def test_workers_ride_out_a_chroma_restart_without_losing_or_doubling_chunks(
    tmp_path: Path, steward_home: Path
) -> None:
    with (
        postgres_server() as pg,
        FakeHub() as hub,
        chroma_server(tmp_path / "chroma") as chroma,
        HoldingProxy(chroma.url, _is_add, nth=2) as proxy,
    ):
        spaces = seed_spaces(hub, SPACES, FIRST, votes=1)
        config = write_config(
            tmp_path / "config.yaml",
            hub.url,
            pg.url,
            spaces,
            chroma_url=proxy.url,
            ingest_every_s=1,
            lease_s=6,
            renew_every_s=1,
        )
        workers = [Worker(config, tmp_path / f"w{i}") for i in range(2)]
        store = RecordStore(pg.url)
        try:
            assert proxy.entered.wait(timeout=240), "no worker wrote to the index"
            chroma.stop()  # while the second write of the index is on its way
            proxy.release.set()
            for i, space in enumerate(spaces):
                created = int(hub.now()) - 2 * DAY
                hub.add_proposal(
                    space,
                    id=fake_hex(f"{space}:later"),
                    title=f"DAO {i}: renew the security council",
                    body=f"Renew the security council of DAO {i} for another year.",
                    created=created,
                    start=created,
                    end=created + DAY,
                    choices=["For", "Against"],
                )
            wait_until(
                lambda: any(w.logged(DOWN) for w in workers), 120, "a worker to notice Chroma left"
            )
            total = SPACES * (FIRST + LATER)
            wait_until(
                lambda: len(store.proposals(source="snapshot")) == total,
                120,
                "ingest to go on without the vector store",
            )
            assert store.index_tasks(), "nothing was left for the index while Chroma was down"
            chroma.start()
            wait_until(lambda: not store.index_tasks(), 240, "the index to catch up")
            wait_until(
                lambda: all(w.logged(BACK) for w in workers if w.logged(DOWN)),
                60,
                "the workers to notice Chroma is back",
            )
            assert all(w.proc.poll() is None for w in workers), "a worker died"
        finally:
            codes = [w.stop() for w in workers]
        assert codes == [0, 0], codes
        _index_matches_bookkeeping(store, chroma.url, total)
        store.close()
    for w in workers:
        log = w.log.read_text()
        assert log.count(DOWN) <= 1 and log.count(BACK) == log.count(DOWN), log[-3000:]
        assert "Traceback" not in log, log[-3000:]


def _index_matches_bookkeeping(store: RecordStore, url: str, total: int) -> None:
    """Read Chroma directly (not through Steward's connector) and hold it against the store:
    one vector per passage, each space's graph mirroring the main graph."""
    import chromadb
    from chromadb.config import Settings

    host, port = url.removeprefix("http://").split(":")
    client = chromadb.HttpClient(
        host=host, port=int(port), settings=Settings(anonymized_telemetry=False)
    )
    ids: list[str] = []
    lean: list[str] = []  # the per-space graphs mirror the main graph's unflagged vectors
    main: list[str] = []
    for col in client.list_collections():
        if not col.name.startswith("steward-proposals.vectors"):
            continue
        got = col.get(include=[])
        if col.name in ("steward-proposals.vectors", "steward-proposals.vectors.flagged"):
            ids += got["ids"]
            if col.name == "steward-proposals.vectors":
                main += got["ids"]
        else:
            lean += got["ids"]
    stored = store.proposals(source="snapshot")
    assert len(stored) == total
    assert len(ids) == len(set(ids)), "a chunk is in the index twice"
    assert sorted(lean) == sorted(main), "a space's graph differs from the main graph"
    passages = store.passages_of([p.uid for p in stored])
    assert sorted(ids) == sorted(p.chunk_id for p in passages), "vectors and passages differ"
    per_proposal = Counter(p.proposal_uid for p in passages)
    assert set(per_proposal) == {p.uid for p in stored}
    for p in stored:
        kept = store.get(p.uid)
        assert kept is not None and kept.indexed_hash == p.content_hash
        assert per_proposal[p.uid] == kept.indexed_chunks > 0, p.uid
