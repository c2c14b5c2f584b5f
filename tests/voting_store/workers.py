"""Functions run in child processes (multiprocessing "spawn": a fresh interpreter each).

Each opens its own RecordStore on the same database, as a second `steward` would.
"""

from __future__ import annotations

import os
import time
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier, Event
from pathlib import Path
from typing import Any

from agent.store import RecordStore
from agent.voting.audit_log import AuditLog
from agent.voting.intent_store import IntentStore
from agent.voting.lock import InstanceLock, VoteLocks
from tests.voting_store import DELEGATE, bundle, reason_for


def create_intent(url: str, barrier: Barrier, results: Queue[Any]) -> None:
    store = RecordStore(url)
    b = bundle()
    barrier.wait()
    made = IntentStore(store.engine).create_intent(
        b, delegate=DELEGATE, target="snapshot", choice=1, reason=reason_for(b)
    )
    results.put(made.id if made else None)
    store.close()


def append_entries(url: str, head: str, barrier: Barrier, count: int) -> None:
    store = RecordStore(url)
    log = AuditLog(store.engine, Path(head))
    barrier.wait()
    for n in range(count):
        log.append("recommended", proposal_uid=f"snapshot:{os.getpid()}", data={"n": n})
    store.close()


def submit_then_crash(url: str) -> None:
    """Record an intent, send it, and die before confirming: no cleanup at all."""
    store = RecordStore(url)
    intents = IntentStore(store.engine)
    b = bundle("0xcrash")
    made = intents.create_intent(
        b, delegate=DELEGATE, target="snapshot", choice=1, reason=reason_for(b)
    )
    assert made is not None
    intents.mark_submitted(made.id, "receipt-1")
    os._exit(9)


def hold_lock(path: str, ready: Event) -> None:
    """Hold the lock until killed (the test kills it: a crash, not a clean exit)."""
    with InstanceLock(Path(path)).acquire():
        ready.set()
        time.sleep(60)


def critical_section(directory: str, log: str, barrier: Barrier) -> None:
    locks = VoteLocks(Path(directory))
    barrier.wait()
    for _ in range(3):
        with locks.hold(DELEGATE, "snapshot:0x1", timeout=10):
            with open(log, "a") as f:
                f.write(f"enter {os.getpid()}\n")
            time.sleep(0.02)
            with open(log, "a") as f:
                f.write(f"exit {os.getpid()}\n")
