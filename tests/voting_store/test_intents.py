"""Vote intents: one per delegate and proposal, forward-only compare-and-set transitions."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from agent.store import RecordStore, schema
from agent.voting.intent_store import IntentStore
from agent.voting.intents import redact
from agent.voting.provenance import provenance_hash
from tests.voting_store import DELEGATE, NOW, bundle, reason_for, workers


def _create(intents: IntentStore, pid: str = "0x1", delegate: str = DELEGATE):
    b = bundle(pid)
    return intents.create_intent(
        b, delegate=delegate, target="snapshot", choice=1, reason=reason_for(b)
    )


def test_create_records_everything_once(intents: IntentStore) -> None:
    made = _create(intents)
    assert made is not None and made.status == "intended" and made.attempts == 0
    b = bundle()
    assert made.delegate == DELEGATE.lower()
    assert made.proposal_uid == "snapshot:0x1" and made.content_hash == b.proposal.content_hash
    assert made.provenance_hash == provenance_hash(b) == provenance_hash(made.bundle)
    assert made.reason.endswith(f"steward-provenance:sha256:{made.provenance_hash}")
    assert _create(intents) is None  # already intended
    assert _create(intents, delegate=DELEGATE.upper().replace("0X", "0x")) is None  # same address
    assert _create(intents, delegate="other.eth") is not None  # another delegate may vote
    assert intents.for_proposal(DELEGATE, "snapshot:0x1") == made
    assert intents.get(made.id) == made and intents.get("nope") is None


def test_reason_must_carry_the_provenance_tag(intents: IntentStore) -> None:
    with pytest.raises(ValueError, match="provenance tag"):
        intents.create_intent(
            bundle(), delegate=DELEGATE, target="snapshot", choice=1, reason="trust me"
        )


def test_threads_racing_create_exactly_one(intents: IntentStore) -> None:
    barrier = threading.Barrier(8)

    def race(_: int) -> str | None:
        b = bundle()
        barrier.wait()
        made = intents.create_intent(
            b, delegate=DELEGATE, target="chain", choice=1, reason=reason_for(b)
        )
        return made.id if made else None

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(race, range(8)))
    assert len([i for i in ids if i]) == 1


def test_processes_racing_create_exactly_one(store: RecordStore) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(4), ctx.Queue()
    procs = [
        ctx.Process(target=workers.create_intent, args=(store.url, barrier, results))
        for _ in range(4)
    ]
    for p in procs:
        p.start()
    ids = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    assert len([i for i in ids if i]) == 1
    with store.engine.connect() as conn:
        assert len(conn.execute(select(schema.vote_intents.c.id)).all()) == 1


def test_transitions_are_compare_and_set(intents: IntentStore) -> None:
    made = _create(intents)
    assert made is not None
    assert not intents.mark_confirmed(made.id, "r")  # not submitted yet
    assert intents.mark_submitted(made.id, "receipt-1")
    assert not intents.mark_submitted(made.id, "receipt-2")  # never twice
    sent = intents.get(made.id)
    assert sent and (sent.status, sent.external_ref, sent.attempts) == ("submitted", "receipt-1", 1)
    assert sent.submitted is not None
    assert intents.mark_confirmed(made.id)  # keeps the ref it has
    done = intents.get(made.id)
    assert done and (done.status, done.external_ref) == ("confirmed", "receipt-1")
    for move in (
        lambda: intents.mark_failed(made.id, "late", retryable=False),
        lambda: intents.mark_failed(made.id, "late", retryable=True),
        lambda: intents.mark_skipped(made.id, "late"),
        lambda: intents.mark_reconciled(made.id, "x"),
        lambda: intents.mark_confirmed(made.id, "x"),
    ):
        assert not move()
    assert intents.get(made.id) == done


def test_concurrent_moves_only_one_wins(intents: IntentStore) -> None:
    made = _create(intents)
    assert made is not None
    barrier = threading.Barrier(6)

    def move(n: int) -> bool:
        barrier.wait()
        return intents.mark_submitted(made.id, f"r{n}")

    with ThreadPoolExecutor(6) as pool:
        assert sum(pool.map(move, range(6))) == 1


def test_failures_retryable_and_final(intents: IntentStore) -> None:
    a, b, c = _create(intents, "0xa"), _create(intents, "0xb"), _create(intents, "0xc")
    assert a and b and c
    assert intents.mark_failed(a.id, "rpc timeout", retryable=True)
    kept = intents.get(a.id)
    assert kept and (kept.status, kept.attempts, kept.error) == ("intended", 1, "rpc timeout")
    assert intents.mark_submitted(a.id, "0xtx")
    assert intents.mark_failed(a.id, "reverted", retryable=False)
    dead = intents.get(a.id)
    assert dead and (dead.status, dead.attempts, dead.error) == ("failed", 2, "reverted")
    assert intents.mark_skipped(b.id, "vetoed by the delegate")
    assert not intents.mark_submitted(b.id)
    assert intents.mark_reconciled(c.id, "0xfound")
    found = intents.get(c.id)
    assert found and (found.status, found.external_ref) == ("reconciled_existing", "0xfound")


def test_pending_and_daily_count(intents: IntentStore) -> None:
    made = [_create(intents, f"0x{n}") for n in range(5)]
    assert all(made)
    ids = [m.id for m in made if m]
    intents.mark_submitted(ids[1])
    intents.mark_submitted(ids[2])
    intents.mark_confirmed(ids[2])
    intents.mark_failed(ids[3], "no", retryable=False)
    intents.mark_skipped(ids[4], "veto")
    assert {i.id for i in intents.pending()} == set(ids[:2])
    assert intents.pending("someone.else") == []
    assert intents.votes_cast_since(DELEGATE, NOW) == 3  # intended, submitted, confirmed
    assert intents.votes_cast_since(DELEGATE, NOW + timedelta(days=3650)) == 0
    assert intents.votes_cast_since("someone.else", NOW) == 0


def test_pending_after_a_real_crash(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'steward.db'}"
    RecordStore(url).close()
    child = multiprocessing.get_context("spawn").Process(
        target=workers.submit_then_crash, args=(url,)
    )
    child.start()
    child.join(60)
    assert child.exitcode == 9
    reopened = RecordStore(url)
    [left] = IntentStore(reopened.engine).pending()
    assert (left.proposal_uid, left.status, left.external_ref) == (
        "snapshot:0xcrash",
        "submitted",
        "receipt-1",
    )
    reopened.close()


KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"


def test_redact_secrets_and_credentials() -> None:
    text = (
        f"signing with {KEY} failed; bare {KEY[2:].upper()}; "
        "rpc https://user:hunter2@rpc.example/v1?api_key=sk-123&x=1 "
        'Authorization: Bearer abc.def token="t0k" hub-key-xyz'
    )
    out = redact(text, [KEY, "hub-key-xyz", ""])
    for secret in (KEY[2:].lower(), "hunter2", "sk-123", "abc.def", "t0k", "hub-key-xyz"):
        assert secret not in out.lower()
    assert "rpc.example" in out and "[redacted]" in out
    assert len(redact("x" * 2000)) == 500
