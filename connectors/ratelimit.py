"""A sliding-window request limiter (the hub counts requests per minute per IP)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol


class Limiter(Protocol):
    """What a client needs of a limiter: this one, or the cluster's shared budget."""

    def acquire(self) -> None: ...


class RateLimiter:
    """Blocks until another request fits in `limit` requests per `window` seconds."""

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()
        self.waited = 0.0

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                while self._sent and now - self._sent[0] >= self.window:
                    self._sent.popleft()
                if len(self._sent) < self.limit:
                    self._sent.append(now)
                    return
                delay = self.window - (now - self._sent[0])
            self.waited += delay
            self._sleep(max(delay, 0.001))
