"""Per-vote locks as database leases, for workers on different machines.

The file locks of `agent.voting.lock` only exclude processes sharing a disk. Here
the lock for (delegate, proposal) is the lease `vote-lock:<delegate>:<proposal>`,
renewed while held; `still_held` asks the database (fencing token and expiry)
right before a vote is sent, so a worker that stalled past its lease while another
took the vote over does not send it too. The intent's unique index stays the last
guard: two workers can never both write an intent for the same vote.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agent.cluster.worker import ClusterWorker
from agent.errors import StewardError
from agent.store.leases import Lease
from agent.voting.intents import delegate_key
from agent.voting.lock import LockHeld


class VoteLockBusy(LockHeld):
    """Another worker holds this vote's lock past the timeout: the next tick tries again."""

    def __init__(self, name: str) -> None:
        StewardError.__init__(self, f"another worker is casting {name}: it will be retried")
        self.path = Path(name)
        self.pid = None


class DbVoteLocks:
    def __init__(self, worker: ClusterWorker, *, poll_s: float = 0.2) -> None:
        self.worker = worker
        self.poll_s = poll_s
        self._local = threading.local()

    @staticmethod
    def name(delegate: str, proposal_uid: str) -> str:
        return f"vote-lock:{delegate_key(delegate)}:{proposal_uid}"

    @contextmanager
    def hold(self, delegate: str, proposal_uid: str, timeout: float = 30.0) -> Iterator[None]:
        name = self.name(delegate, proposal_uid)
        deadline = time.monotonic() + timeout
        while (lease := self.worker.claim(name, due=False)) is None:
            if time.monotonic() >= deadline:
                raise VoteLockBusy(name)
            time.sleep(self.poll_s)
        self._local.lease = lease
        try:
            yield
        finally:
            self._local.lease = None
            self.worker.release(lease)

    def still_held(self) -> bool:
        lease: Lease | None = getattr(self._local, "lease", None)
        if lease is None:
            return False
        return not self.worker.lost(lease) and self.worker.leases.still_held(lease)
