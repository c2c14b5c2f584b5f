"""One request budget shared by every worker: `limit` slots per bucket in the database.

A request takes the slot used longest ago if that was at least `window` seconds before
now (the database's clock), so no window ever holds more than `limit` requests from
all workers together — the hub's ~100 a minute is shared, not multiplied. The
update re-checks the slot's time, so two workers never take the same slot.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from agent.store.cluster_tables import db_now, rate_slots
from agent.store.leases import Clock

log = logging.getLogger(__name__)

OnWait = Callable[[str, float], None]
"""Told (bucket, seconds) each time a worker waits for the shared budget."""


class SharedRateLimiter:
    """`acquire()` blocks until a request fits in `limit` per `window` seconds, cluster-wide.

    Same surface as connectors.ratelimit.RateLimiter (`acquire`, `waited`), plus
    `requests` and an `on_wait` hook for metrics.
    """

    def __init__(
        self,
        engine: Engine,
        bucket: str,
        limit: int,
        window: float = 60.0,
        *,
        clock: Clock = db_now,
        sleep: Callable[[float], None] = time.sleep,
        on_wait: OnWait | None = None,
    ) -> None:
        self.engine = engine
        self.bucket = bucket
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._on_wait = on_wait
        self._lock = threading.Lock()
        self._ready = False
        self.requests = 0
        self.waited = 0.0

    def acquire(self) -> None:
        with self._lock:  # threads of one worker queue here, not in the database
            self._prepare()
            while (delay := self._try_take()) > 0:
                self.waited += delay
                if self._on_wait is not None:
                    self._on_wait(self.bucket, delay)
                self._sleep(delay)
            self.requests += 1

    def _try_take(self) -> float:
        """0 when a slot was taken, else how long until the oldest slot frees."""
        with self.engine.begin() as conn:
            now = self._clock(conn)
            oldest = conn.execute(
                select(rate_slots.c.slot, rate_slots.c.used_at)
                .where(rate_slots.c.bucket == self.bucket, rate_slots.c.slot < self.limit)
                .order_by(rate_slots.c.used_at)
                .limit(1)
            ).first()
            if oldest is None:
                raise RuntimeError(f"rate bucket {self.bucket} has no slots")
            free_at = oldest.used_at + self.window
            if free_at > now:
                return max(free_at - now, 0.001)
            taken = conn.execute(
                update(rate_slots)
                .where(
                    rate_slots.c.bucket == self.bucket,
                    rate_slots.c.slot == oldest.slot,
                    rate_slots.c.used_at == oldest.used_at,  # nobody took it meanwhile
                )
                .values(used_at=now)
            ).rowcount
        return 0.0 if taken == 1 else 0.001

    def _prepare(self) -> None:
        """Create the bucket's missing slots (once per process; racing workers are fine)."""
        if self._ready:
            return
        with self.engine.begin() as conn:
            have = conn.execute(
                select(func.count()).where(
                    rate_slots.c.bucket == self.bucket, rate_slots.c.slot < self.limit
                )
            ).scalar_one()
        if have < self.limit:
            rows = [{"bucket": self.bucket, "slot": i, "used_at": 0.0} for i in range(self.limit)]
            with self.engine.begin() as conn:
                dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
                conn.execute(dialect.insert(rate_slots).on_conflict_do_nothing(), rows)
        self._ready = True
