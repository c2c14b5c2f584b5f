"""Is this worker ready? Each store is asked one cheap question, with a deadline.

A database that hangs (a dropped network, a full connection pool) must not hang the
health check with it, so each question runs in its own daemon thread and an answer
that does not come within the timeout counts as down. A question still hanging from
an earlier check is not asked again: the part stays down until it answers, and
threads never pile up. What is reported names the part and the kind of failure only:
error texts can carry a database URL, and a health endpoint is often public.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping

from pydantic import BaseModel, Field

log = logging.getLogger(__name__)

Check = Callable[[], None]


class ReadinessReport(BaseModel):
    failing: dict[str, str] = Field(default_factory=dict)
    """Part → why, in a few words (never an error's text)."""

    @property
    def ready(self) -> bool:
        return not self.failing

    def text(self) -> str:
        if self.ready:
            return "ready\n"
        return "".join(f"not ready: {part}: {why}\n" for part, why in self.failing.items())


class Readiness:
    """Runs `checks` (part name → a call that raises when the part does not answer)."""

    def __init__(
        self,
        checks: Mapping[str, Check],
        *,
        timeout_s: float,
        describe: Callable[[BaseException], str] = str,
    ) -> None:
        self._checks = dict(checks)
        self._timeout = timeout_s
        self._describe = describe
        self._hanging: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def check(self) -> ReadinessReport:
        asked = {part: self._ask(part, check) for part, check in self._checks.items()}
        report = ReadinessReport()
        for part, (thread, answer) in asked.items():
            if thread is None:
                report.failing[part] = f"no answer yet (over {self._timeout:g}s)"
                continue
            thread.join(self._timeout)  # all asked at once: the waits overlap
            if thread.is_alive():
                with self._lock:
                    self._hanging[part] = thread
                report.failing[part] = f"no answer within {self._timeout:g}s"
            elif "error" in answer:
                report.failing[part] = answer["error"]
        return report

    def _ask(self, part: str, check: Check) -> tuple[threading.Thread | None, dict[str, str]]:
        with self._lock:
            hung = self._hanging.get(part)
            if hung is not None and hung.is_alive():
                return None, {}
            self._hanging.pop(part, None)
        answer: dict[str, str] = {}

        def ask() -> None:
            try:
                check()
            except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
                answer["error"] = type(exc.__cause__ or exc).__name__
                log.warning("health: %s does not answer: %s", part, self._describe(exc))

        thread = threading.Thread(target=ask, name=f"health-{part}", daemon=True)
        thread.start()
        return thread, answer
