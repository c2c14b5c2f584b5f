"""Process locks on files: one `steward run` per data directory, one voter per proposal.

`fcntl.flock` locks belong to the open file, so the kernel drops them when the
holder exits or crashes — no stale lock to clean up. The holder writes its pid
into the file so a refused process can say who holds it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import Protocol

from agent.errors import StewardError
from agent.home import DataHome
from agent.voting.intents import delegate_key


class LockHeld(StewardError):
    """Another process holds the lock; the message names its pid when known."""

    def __init__(self, path: Path, pid: int | None) -> None:
        who = f"process {pid}" if pid else "another process"
        super().__init__(f"{who} holds {path}: is another steward running on this data directory?")
        self.path = path
        self.pid = pid


class InstanceLock:
    """An exclusive, non-reentrant lock on `path` (created if missing).

    `acquire()` fails at once with LockHeld; `acquire(timeout=…)` waits up to that
    long. Two InstanceLocks on the same path exclude each other even within one
    process, since each opens the file itself.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, timeout: float = 0.0, poll: float = 0.05) -> InstanceLock:
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already held by this lock")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + timeout
        while not _try_flock(fd):
            if time.monotonic() >= deadline:
                pid = _read_pid(fd)
                os.close(fd)
                raise LockHeld(self.path, pid)
            time.sleep(poll)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)  # no pid left behind to mislead the next reader
        os.close(fd)  # closing drops the flock

    def __enter__(self) -> InstanceLock:
        return self if self.held else self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def instance_lock(home: Path) -> InstanceLock:
    """The lock `steward run` holds for its whole life: `<home>/steward.lock`."""
    return InstanceLock(DataHome(home).instance_lock)


class VoteLockPort(Protocol):
    """Per-vote critical sections: files here, database leases in cluster mode."""

    def hold(
        self, delegate: str, proposal_uid: str, timeout: float = 30.0
    ) -> AbstractContextManager[None]: ...

    def still_held(self) -> bool: ...


class VoteLocks:
    """Per-vote critical sections in `directory`: one file per (delegate, proposal)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, delegate: str, proposal_uid: str) -> Path:
        key = f"{delegate_key(delegate)}\n{proposal_uid}".encode()
        return self.directory / f"vote-{hashlib.sha256(key).hexdigest()[:32]}.lock"

    @contextlib.contextmanager
    def hold(self, delegate: str, proposal_uid: str, timeout: float = 30.0) -> Iterator[None]:
        """Hold the lock for one vote; LockHeld if another process keeps it past `timeout`."""
        with InstanceLock(self.path(delegate, proposal_uid)).acquire(timeout=timeout):
            yield

    def still_held(self) -> bool:
        """A file lock cannot be taken over while its holder lives (cluster locks can)."""
        return True


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
