"""Process locks: exclusion across real processes, the holder named, release on crash."""

from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path

import pytest

from agent.voting.lock import InstanceLock, LockHeld, VoteLocks, instance_lock
from tests.voting_store import DELEGATE, workers


def test_second_process_is_refused_until_the_holder_dies(tmp_path: Path) -> None:
    path = tmp_path / "home" / "steward.lock"
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    holder = ctx.Process(target=workers.hold_lock, args=(str(path), ready))
    holder.start()
    try:
        assert ready.wait(60)
        with pytest.raises(LockHeld) as refused:
            InstanceLock(path).acquire()
        assert refused.value.pid == holder.pid and str(holder.pid) in str(refused.value)
        with pytest.raises(LockHeld):
            InstanceLock(path).acquire(timeout=0.2)
    finally:
        holder.kill()  # SIGKILL, a crash: no release, the kernel drops the lock
        holder.join(10)
    assert holder.exitcode == -signal.SIGKILL
    with InstanceLock(path).acquire(timeout=5) as lock:
        assert lock.held and path.read_text().strip() == str(os.getpid())
    assert path.read_text() == ""  # released: no pid left behind


def test_two_locks_in_one_process_exclude_each_other(tmp_path: Path) -> None:
    with instance_lock(tmp_path), pytest.raises(LockHeld):
        instance_lock(tmp_path).acquire()
    with instance_lock(tmp_path):
        pass


def test_vote_critical_sections_never_overlap(tmp_path: Path) -> None:
    log = tmp_path / "sections.log"
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [
        ctx.Process(
            target=workers.critical_section, args=(str(tmp_path / "locks"), str(log), barrier)
        )
        for _ in range(2)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    lines = log.read_text().split("\n")[:-1]
    assert len(lines) == 12
    for enter, leave in zip(lines[::2], lines[1::2], strict=True):
        assert enter.startswith("enter") and leave == enter.replace("enter", "exit")


def test_vote_locks_are_per_vote(tmp_path: Path) -> None:
    locks = VoteLocks(tmp_path)
    assert locks.path(DELEGATE, "snapshot:0x1") == locks.path(DELEGATE.lower(), "snapshot:0x1")
    with locks.hold(DELEGATE, "snapshot:0x1"):
        with locks.hold(DELEGATE, "snapshot:0x2", timeout=0):
            pass
        with pytest.raises(LockHeld), locks.hold(DELEGATE, "snapshot:0x1", timeout=0.1):
            pass
