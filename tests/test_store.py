"""The record store on a real SQLite file: idempotence, history, votes, cursors."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from agent.models import Proposal, Vote
from agent.store import CursorUpdate, RecordStore, schema
from agent.store.migrations import MIGRATIONS
from tests import postgres

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def pg_server() -> Iterator[str]:
    yield from postgres.server_or_skip()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RecordStore]:
    """Every store test runs on SQLite and on a real PostgreSQL server."""
    yield from postgres.store_per_backend(request, tmp_path)


def _p(pid: str = "0x1", **kw) -> Proposal:
    base = dict(
        source="snapshot", space="a.eth", id=pid, title="T", body="B", state="active", created=T0
    )
    return Proposal(**{**base, **kw})


def _v(voter: str, created: int, choice=1) -> Vote:
    return Vote(
        source="snapshot",
        id=f"v{voter}{created}",
        proposal_uid="snapshot:0x1",
        space="a.eth",
        voter=voter,
        choice=choice,
        voting_power=1.0,
        created=datetime.fromtimestamp(created, UTC),
    )


def test_migrations_are_recorded_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    first = RecordStore(url)
    with first.engine.connect() as conn:
        names = conn.execute(select(schema.schema_migrations.c.name)).scalars().all()
    assert names[:4] == ["m001_initial", "m002_assessments", "m003_posts", "m004_chain"]
    assert names == [m.__name__ for m in MIGRATIONS]
    RecordStore(url)  # re-open: nothing re-applied, nothing fails


def test_m007_gives_old_runs_a_process_and_shows_crashed_ones_interrupted(
    tmp_path: Path,
) -> None:
    from sqlalchemy import create_engine, text

    url = f"sqlite:///{tmp_path / 'old.db'}"
    RecordStore(url).close()
    engine = create_engine(url)
    with engine.begin() as conn:  # a database from before m007
        conn.execute(text("DELETE FROM schema_migrations WHERE name = 'm007_run_liveness'"))
        conn.execute(text("DROP TABLE runs"))
        conn.execute(
            text(
                "CREATE TABLE runs (id INTEGER PRIMARY KEY, source VARCHAR(20) NOT NULL,"
                " scopes JSON NOT NULL, started_at INTEGER NOT NULL, finished_at INTEGER,"
                " status VARCHAR(20) NOT NULL, counts JSON, error TEXT)"
            )
        )
        conn.execute(
            text("INSERT INTO runs VALUES (1, 'snapshot', '[]', 5, NULL, 'running', NULL, NULL)")
        )
    engine.dispose()
    store = RecordStore(url)
    (old,) = store.last_runs()
    assert old.status == "running" and old.pid is None  # nothing to check it by
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    run_id = store.start_run("snapshot", ["a.eth"])
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE runs SET pid = :pid WHERE id = :id"),
            {"pid": int(gone.stdout), "id": run_id},
        )
    assert store.last_runs(1)[0].status == "interrupted"
    mine = store.start_run("snapshot", ["a.eth"])
    assert store.last_runs(1)[0].status == "running" and store.last_runs(1)[0].id == mine


def test_m004_adds_the_vote_block_column_to_an_old_database(tmp_path: Path) -> None:
    """A database made before chain support gains votes.block without losing votes."""
    from sqlalchemy import create_engine, inspect, text

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE schema_migrations"
                " (name VARCHAR(200) PRIMARY KEY, applied_at INTEGER NOT NULL)"
            )
        )
        conn.execute(
            text(
                "CREATE TABLE votes (proposal_uid VARCHAR(400), voter VARCHAR(200),"
                " id VARCHAR(300) NOT NULL,"
                " source VARCHAR(20) NOT NULL, space VARCHAR(300) NOT NULL, choice JSON NOT NULL,"
                " voting_power FLOAT NOT NULL, reason TEXT NOT NULL, created_ts INTEGER NOT NULL,"
                " PRIMARY KEY (proposal_uid, voter))"
            )
        )
        conn.execute(
            text(
                "INSERT INTO votes VALUES"
                " ('snapshot:p', '0xa', 'v1', 'snapshot', 'a.eth', '1', 1.0, '', 5)"
            )
        )
        for name in ("m001_initial", "m002_assessments", "m003_posts"):
            conn.execute(text("INSERT INTO schema_migrations VALUES (:n, 0)"), {"n": name})
    engine.dispose()
    store = RecordStore(url)
    assert "block" in {c["name"] for c in inspect(store.engine).get_columns("votes")}
    assert [v.block for v in store.votes("snapshot:p")] == [None]


def test_upsert_is_idempotent_and_classifies_changes(store: RecordStore) -> None:
    assert [c.kind for c in store.apply_proposals([_p()])] == ["new"]
    assert [c.kind for c in store.apply_proposals([_p()])] == ["unchanged"]
    scored = store.apply_proposals([_p(scores=[1.0, 2.0])])[0]
    assert (scored.kind, scored.content_changed) == ("updated", False)
    edited = store.apply_proposals([_p(body="B2", scores=[1.0, 2.0])])[0]
    assert (edited.kind, edited.content_changed) == ("updated", True)
    assert [h.kind for h in store.history("snapshot:0x1")] == ["created", "edited"]
    # the same proposal twice in one page (a paging boundary) counts once
    assert len(store.apply_proposals([_p("0x2"), _p("0x2")])) == 1


def test_deletion_keeps_the_record_and_restoration_is_recorded(store: RecordStore) -> None:
    store.apply_proposals([_p()])
    assert store.mark_deleted(["snapshot:0x1", "snapshot:nope"]) == 1
    assert store.mark_deleted(["snapshot:0x1"]) == 0
    assert store.proposals() == [] and len(store.proposals(include_deleted=True)) == 1
    assert store.get("snapshot:0x1").deleted_at is not None
    assert store.apply_proposals([_p()])[0].kind == "restored"
    kinds = [h.kind for h in store.history("snapshot:0x1")]
    assert kinds == ["created", "deleted", "restored"]


def test_votes_latest_per_voter_wins(store: RecordStore) -> None:
    store.apply_proposals([_p()])
    assert store.apply_votes([_v("0xa", 10), _v("0xb", 11)]) == 2
    assert store.apply_votes([_v("0xa", 20, choice=2)]) == 0
    assert store.apply_votes([_v("0xb", 5, choice=3)]) == 0  # older: ignored
    votes = {v.voter: v.choice for v in store.votes("snapshot:0x1")}
    assert votes == {"0xa": 2, "0xb": 1}


def test_cursor_moves_with_its_records(store: RecordStore) -> None:
    cur = CursorUpdate(source="snapshot", scope="proposals:a.eth", value={"created": 5})
    store.apply_proposals([_p()], cur)
    assert store.get_cursor("snapshot", "proposals:a.eth") == {"created": 5}
    bad = Proposal.model_construct(**{**_p("0x3").__dict__, "title": None})  # fails on insert
    with pytest.raises(Exception):  # noqa: B017 - any DB error: the point is the rollback
        store.apply_proposals(
            [_p("0x2"), bad],
            CursorUpdate(source="snapshot", scope="proposals:a.eth", value={"created": 9}),
        )
    assert store.get_cursor("snapshot", "proposals:a.eth") == {"created": 5}
    assert store.get("snapshot:0x2") is None


def test_index_tasks_track_content_state_and_deletion(store: RecordStore) -> None:
    store.apply_proposals([_p()])
    assert [t.action for t in store.index_tasks()] == ["embed"]
    store.set_indexed(_p(), "snapshot:0x1", 2)
    assert store.index_tasks() == []
    store.apply_proposals([_p(state="closed")])
    assert [t.action for t in store.index_tasks()] == ["metadata"]
    store.set_indexed(_p(state="closed"), "snapshot:0x1", 2)
    store.mark_deleted(["snapshot:0x1"])
    assert [t.action for t in store.index_tasks()] == ["remove"]


def test_resolve_and_summary(store: RecordStore) -> None:
    store.apply_proposals([_p("0xabc1"), _p("0xabc2", flagged=True), _p("0xdef", state="closed")])
    assert store.resolve("snapshot:0xdef") == ["snapshot:0xdef"]
    assert store.resolve("0xdef") == ["snapshot:0xdef"]
    assert sorted(store.resolve("0xabc")) == ["snapshot:0xabc1", "snapshot:0xabc2"]
    assert store.resolve("0x_%") == []  # LIKE wildcards are literal
    (summary,) = store.summary()
    assert (summary.proposals, summary.open, summary.flagged) == (3, 2, 1)


def test_posts_are_claimed_once_and_failures_stay_pending(store: RecordStore) -> None:
    assert store.claim_post("alert:c1:p1", target="c1", kind="alert", payload={"t": 1})
    assert not store.claim_post("alert:c1:p1", target="c1", kind="alert", payload={"t": 1})
    assert [p.key for p in store.unsent_posts()] == ["alert:c1:p1"]
    store.mark_failed("alert:c1:p1", "HTTP 500")
    assert store.unsent_posts()[0].attempts == 1
    store.mark_posted("alert:c1:p1")
    assert store.unsent_posts() == [] and store.post("alert:c1:p1").status == "posted"
    assert store.subscribe("c1", "ens.eth") and not store.subscribe("c1", "ens.eth")
    assert store.subscriptions() == [("c1", "ens.eth")]
    assert store.unsubscribe("c1", "ens.eth") and not store.unsubscribe("c1", "ens.eth")


def test_vote_queries_for_the_voter_views(store: RecordStore) -> None:
    """Every kind of choice reads back as stored; addresses match in any case; deleted
    proposals' votes leave the space's figures."""
    store.apply_proposals([_p("0x1", end=T0), _p("0x2", end=T0 + timedelta(days=9))])
    choices = [1, [1, 3], {"1": 2.0, "2": 1.0}, "custom", 2]
    votes = [_v(f"0x{i:040x}", 1_767_225_600 + i, choice=c) for i, c in enumerate(choices)]
    votes.append(_v("0xAbC0000000000000000000000000000000000001", 1_767_225_700))
    store.apply_votes(votes)
    facts = {f.voter: f for f in store.vote_facts("snapshot:0x1")}
    assert [facts[v.voter].choice for v in votes[:5]] == choices
    assert store.vote_stamp("snapshot:0x1") == (6, 1_767_225_700)
    assert store.vote_stamp("snapshot:nope") == (0, 0)
    [mine] = store.voter_facts("0xabc0000000000000000000000000000000000001")
    assert mine.voter == "0xAbC0000000000000000000000000000000000001"
    assert store.voter_facts("0xabc0000000000000000000000000000000000001", "other.eth") == []
    assert store.space_vote_stamp("a.eth").votes == 6
    assert [f.created_ts for f in store.space_vote_facts("a.eth")] == sorted(
        f.created_ts for f in facts.values()
    )
    assert store.proposals_ending_since("a.eth", int((T0 + timedelta(days=1)).timestamp())) == [
        "snapshot:0x2"
    ]
    store.mark_deleted(["snapshot:0x1"])
    assert store.space_vote_facts("a.eth") == [] and store.space_vote_stamp("a.eth").votes == 0


def test_passages_are_replaced_moved_and_joined_with_their_proposal(store: RecordStore) -> None:
    from agent.records.passage import Passage

    proposal = Proposal(
        source="snapshot", space="a.eth", id="0x1", title="T", body="b", state="active"
    )
    store.apply_proposals([proposal])

    def passage(uid: str, i: int, key: str = "k") -> Passage:
        return Passage(
            chunk_id=f"{uid}#{i}",
            proposal_uid=uid,
            space="a.eth",
            flagged=False,
            chunk=i,
            text_key=f"{key}{i}",
            text=f"text {i}",
        )

    store.replace_passages([proposal.uid, "gone"], [passage(proposal.uid, i) for i in (1, 0)])
    store.replace_passages(["gone"], [passage("gone", 0, key="g")])
    assert [p.chunk for p in store.passages_of([proposal.uid])] == [0, 1]
    store.replace_passages([proposal.uid], [passage(proposal.uid, 0, key="n")])  # an edit
    assert [p.text_key for p in store.passages_of([proposal.uid, "gone"])] == ["g0", "n0"]
    assert set(store.passages_by_text_key(["n0", "g0", "k1"])) == {"n0", "g0"}
    store.move_passages(proposal.uid, space="b.eth", flagged=True)
    views = store.passage_views([f"{proposal.uid}#0", "gone#0", "nothing#0"])
    mine = views[f"{proposal.uid}#0"]
    assert (mine.space, mine.flagged, mine.title, mine.state) == ("b.eth", True, "T", "active")
    assert mine.proposal_flagged is False
    assert views["gone#0"].proposal_flagged is None and views["gone#0"].title == ""
    store.upsert_passages([passage("gone", 0, key="h")])
    assert store.passages_of(["gone"])[0].text_key == "h0"
    store.delete_passages(["gone"])
    assert store.count_passages() == 1
