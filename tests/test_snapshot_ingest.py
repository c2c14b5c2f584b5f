"""Snapshot ingest end to end: fake hub over HTTP → record store → Chroma (MiniLM)."""

from __future__ import annotations

import time

import pytest

from agent.errors import MalformedResponse
from agent.ingest import IngestFailed
from agent.search import search
from tests.fakes.snapshot_hub import FakeHub
from tests.pipeline import Pipeline

SPACE = "ens.eth"


@pytest.fixture
def hub() -> FakeHub:
    with FakeHub() as hub:
        hub.add_space(SPACE, name="ENS", verified=True)
        yield hub


@pytest.fixture
def pipe(hub: FakeHub, tmp_path, embedder) -> Pipeline:
    return Pipeline(hub.url, tmp_path, embedder)


def _seed(hub: FakeHub, n: int, *, start: int = 1_700_000_000, step: int = 60) -> list[dict]:
    return [
        hub.add_proposal(
            SPACE,
            title=f"Proposal {i}",
            body=f"Fund grant number {i} for docs.",
            created=start + i * step,
            start=start + i * step,
            end=start + i * step + 3600,
        )
        for i in range(n)
    ]


def test_first_ingest_stores_and_indexes_everything(hub: FakeHub, pipe: Pipeline) -> None:
    hub.add_proposal(
        SPACE,
        title="Renew the ENS public goods working group budget",
        body="Fund public goods: open source tooling, documentation and grants.",
    )
    hub.add_proposal(
        SPACE,
        title="Change the .eth registration price oracle",
        body="Switch to an exponential premium for expired names.",
    )
    counts, index = pipe.run([SPACE])
    assert (counts.new, counts.updated, counts.spaces) == (2, 0, 1)
    assert index.embedded_proposals == 2 and pipe.index.count() == index.embedded_chunks
    hits = search("money for open source software", pipe.index, pipe.embedder, limit=1)
    assert hits[0].title.startswith("Renew the ENS public goods")
    stored = pipe.store.proposals(source="snapshot")
    assert {p.space for p in stored} == {SPACE} and all(p.state == "active" for p in stored)


def test_second_run_is_incremental_and_embeds_nothing(hub: FakeHub, pipe: Pipeline) -> None:
    _seed(hub, 5)
    pipe.run([SPACE])
    before = len(hub.requests)
    counts, index = pipe.run([SPACE])
    assert counts.new == 0 and counts.updated == 0
    assert index.embedded_chunks == 0 and pipe.embed_calls == 1  # model not even asked for
    # Only the newest second is re-read (created_gte the cursor), not the whole space.
    proposal_queries = [r for r in hub.requests[before:] if "Proposals(" in r["query"]]
    assert proposal_queries[0]["variables"]["since"] == 1_700_000_000 + 4 * 60
    _seed(hub, 2, start=1_800_000_000)
    counts, index = pipe.run([SPACE])
    assert counts.new == 2 and index.embedded_proposals == 2


def test_pagination_crosses_the_skip_limit_without_loss_or_repeat(tmp_path, embedder) -> None:
    with FakeHub(max_first=10, max_skip=30) as hub:
        hub.add_space(SPACE)
        # 95 proposals, several sharing a second right where a window ends.
        for i in range(95):
            created = 1_700_000_000 + (i // 3)
            hub.add_proposal(
                SPACE, title=f"P{i}", body="x", created=created, start=created, end=created + 10
            )
        pipe = Pipeline(hub.url, tmp_path, embedder, snapshot={"page_size": 10, "max_skip": 30})
        counts = pipe.run([SPACE], votes=False)[0]
        assert counts.new == 95 and counts.unchanged == 0
        skips = [r["variables"]["skip"] for r in hub.requests if "Proposals(" in r["query"]]
        assert max(skips) <= 30 and 0 in skips[1:]  # a new window started


def test_edit_is_recorded_and_replaces_old_chunks(hub: FakeHub, pipe: Pipeline) -> None:
    hub.add_space("other.eth")
    p = hub.add_proposal(
        SPACE,
        title="Budget",
        body="Pay the auditors 100k USDC.",
        start=2_000_000_000,
        end=2_000_100_000,
    )
    pipe.run([SPACE])
    hub.edit_proposal(p["id"], body="Pay the auditors 250k USDC over two years.")
    counts, index = pipe.run([SPACE])
    assert (counts.updated, counts.edited) == (1, 1) and index.embedded_proposals == 1
    uid = f"snapshot:{p['id']}"
    assert [h.kind for h in pipe.store.history(uid)] == ["created", "edited"]
    assert "100k" in pipe.store.history(uid)[0].body
    hits = pipe.index.query(pipe.embedder.embed(["auditors"])[0], limit=10)
    assert len(hits) == 1 and "250k" in hits[0].text


def test_deleted_proposal_is_marked_not_lost(hub: FakeHub, pipe: Pipeline) -> None:
    keep, gone = _seed(hub, 2, start=2_000_000_000)  # still open: refreshed every run
    pipe.run([SPACE])
    hub.delete_proposal(gone["id"])
    counts, index = pipe.run([SPACE])
    assert counts.deleted == 1 and index.removed == 1
    stored = pipe.store.get(f"snapshot:{gone['id']}")
    assert stored is not None and stored.deleted_at is not None
    assert stored.proposal.body.startswith("Fund grant")
    assert [p.id for p in pipe.store.proposals(source="snapshot")] == [keep["id"]]
    assert {
        h.proposal_uid for h in pipe.index.query(pipe.embedder.embed(["grant"])[0], limit=10)
    } == {f"snapshot:{keep['id']}"}


def test_full_rescan_finds_deleted_closed_proposals(hub: FakeHub, pipe: Pipeline) -> None:
    old = _seed(hub, 3)  # closed long ago: not refreshed incrementally
    pipe.run([SPACE], votes=False)
    hub.delete_proposal(old[1]["id"])
    assert pipe.run([SPACE], votes=False)[0].deleted == 0
    assert pipe.run([SPACE], full=True, votes=False)[0].deleted == 1


def test_flagged_space_and_proposals_are_marked(hub: FakeHub, pipe: Pipeline) -> None:
    hub.add_space("spam.eth", flagged=True)
    hub.add_proposal("spam.eth", title="Claim your airdrop", body="Connect wallet now")
    hub.add_proposal(SPACE, title="Free tokens", body="click here", flagged=True)
    hub.add_proposal(SPACE, title="Fund docs", body="documentation grants")
    pipe.run([SPACE, "spam.eth"], votes=False)
    flagged = {p.title: p.flagged for p in pipe.store.proposals()}
    assert flagged == {"Claim your airdrop": True, "Free tokens": True, "Fund docs": False}
    assert {s.id: s.flagged for s in pipe.store.spaces()} == {SPACE: False, "spam.eth": True}
    vec = pipe.embedder.embed(["tokens"])[0]
    assert search("tokens", pipe.index, pipe.embedder)[0].title == "Fund docs"
    assert len(pipe.index.query(vec, limit=10, include_flagged=True)) == 3
    assert len(pipe.index.query(vec, limit=10)) == 1  # flagged chunks live apart


def test_malformed_answer_names_the_field_and_damages_nothing(hub: FakeHub, pipe: Pipeline) -> None:
    _seed(hub, 3, start=2_000_000_000)
    pipe.run([SPACE], votes=False)
    before = pipe.store.proposals()
    _seed(hub, 2, start=2_100_000_000)
    hub.fail_next("malformed")  # the space query answers nonsense
    with pytest.raises(IngestFailed, match=r"space\.") as info:
        pipe.run([SPACE], votes=False)
    assert isinstance(info.value.__cause__, MalformedResponse)
    assert pipe.store.proposals() == before
    assert pipe.store.last_runs(1)[0].status == "failed"
    assert pipe.run([SPACE], votes=False)[0].new == 2  # and the next run recovers


def test_malformed_proposal_page_names_the_field(hub: FakeHub, pipe: Pipeline) -> None:
    _seed(hub, 2)
    source = pipe.source([SPACE])
    hub.fail_next("malformed", 1)
    with pytest.raises(MalformedResponse):
        source._space(SPACE)
    hub.requests.clear()
    items = source.sync(SPACE, pipe.store, votes=False)
    next(items)  # the space
    hub.fail_next("malformed")
    with pytest.raises(MalformedResponse, match=r"proposals\[0\]\.created"):
        next(items)
    assert pipe.store.proposals() == []


def test_a_slow_hub_still_delivers_the_injected_failure(
    hub: FakeHub, pipe: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A busy CI box once answered after the client's timeout: the client retried and
    the retry, not the failed attempt, got a clean page ("DID NOT RAISE")."""
    _seed(hub, 2)
    execute, calls = hub.execute, []

    def slow(*args: object, **kwargs: object) -> tuple[int, dict]:
        calls.append(args)
        if len(calls) == 1:
            time.sleep(1.2)  # one answer from a loaded machine, not a synchronisation
        return execute(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(hub, "execute", slow)
    source = pipe.source([SPACE])
    hub.fail_next("malformed")
    with pytest.raises(MalformedResponse):
        source._space(SPACE)
    assert source.client.retries == 0


def test_crash_mid_ingest_resumes_where_it_stopped(tmp_path, embedder) -> None:
    with FakeHub(max_first=10, max_skip=20) as hub:
        hub.add_space(SPACE)
        for i in range(45):
            c = 1_700_000_000 + i
            hub.add_proposal(SPACE, title=f"P{i}", body="b", created=c, start=c, end=c + 5)
        pipe = Pipeline(
            hub.url,
            tmp_path,
            embedder,
            snapshot={"page_size": 10, "max_skip": 20, "max_retries": 0},
        )
        # The hub dies for good on the 4th request (space + 2 pages succeed).
        source = pipe.source([SPACE], max_retries=0)
        pages = 0
        hub_fail_after = 3
        original = source.client.query

        def flaky(query: str, variables: dict | None = None) -> dict:
            nonlocal pages
            pages += 1
            if pages > hub_fail_after:
                hub.fail_next("500")
            return original(query, variables)

        source.client.query = flaky  # type: ignore[method-assign]
        from agent.ingest import ingest

        with pytest.raises(IngestFailed) as info:
            ingest(source, pipe.store, votes=False)
        assert info.value.counts.new == 20
        assert pipe.store.get_cursor("snapshot", f"proposals:{SPACE}") == {"created": 1_700_000_019}
        hub.requests.clear()
        counts = pipe.run([SPACE], votes=False)[0]
        assert counts.new == 25 and counts.unchanged == 1  # only the boundary second again
        assert len(pipe.store.proposals()) == 45


def test_votes_are_incremental_and_complete_when_final(hub: FakeHub, pipe: Pipeline) -> None:
    p = hub.add_proposal(
        SPACE,
        title="Vote me",
        body="b",
        start=1_700_000_000,
        end=2_100_000_000,
        created=1_700_000_000,
    )
    for i in range(3):
        hub.add_vote(p["id"], voter=f"0x{i:040x}", choice=1, vp=10.0 + i, created=1_700_000_100 + i)
    counts = pipe.run([SPACE])[0]
    assert counts.votes == 3
    hub.add_vote(p["id"], voter=f"0x{9:040x}", choice=2, vp=5.0, created=1_700_000_200)
    hub.add_vote(
        p["id"], voter=f"0x{0:040x}", choice={"1": 1, "2": 1}, vp=10.0, created=1_700_000_300
    )  # a re-vote: replaces, not adds
    counts = pipe.run([SPACE])[0]
    assert counts.votes == 1
    uid = f"snapshot:{p['id']}"
    votes = {v.voter: v for v in pipe.store.votes(uid)}
    assert len(votes) == 4 and votes[f"0x{0:040x}"].choice == {"1": 1.0, "2": 1.0}
    hub.edit_proposal(p["id"], end=1_700_000_500, state="closed", scores_state="final")
    pipe.run([SPACE])
    before = len(hub.requests)
    pipe.run([SPACE])
    assert not any("votes(" in r["query"] for r in hub.requests[before:])
    stored = pipe.store.get(uid)
    assert stored.proposal.state == "closed" and stored.proposal.scores_final


def test_unknown_space_is_a_clear_error(hub: FakeHub, pipe: Pipeline) -> None:
    with pytest.raises(IngestFailed, match=r"no space 'nope\.eth'"):
        pipe.run(["nope.eth"])
