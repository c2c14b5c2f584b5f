"""Prometheus metrics of one `steward run` process, in a registry of its own.

`Metrics` is an `agent.observe.Observer`: the runner, the jobs and the connectors
report to it and `render` writes the Prometheus text format for `/metrics`. It owns
its `CollectorRegistry` (no process-global registry), so two services in one process,
or a test and the service, never mix their counts. Label values come from fixed
vocabularies or configuration names (job names, sources, spaces, chain names, guardrail
codes), never from URLs or error text, so no secret can become a label.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.registry import Collector

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
"""What `generate_latest` writes, and what every Prometheus version reads (the library's
own handler sends it unless a scraper asks for OpenMetrics)."""
VOTE_EVENTS = frozenset({"cast", "confirmed", "failed"})
_LABEL_MAX = 120
"""A label value longer than this is cut: a space id is short, anything longer is odd."""


class Metrics:
    """The service's counters; safe to call from any thread."""

    content_type = CONTENT_TYPE

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.jobs = Counter(
            "steward_jobs",
            "Jobs run, by kind and outcome (ok, failed).",
            ["job", "outcome"],
            registry=r,
        )
        self.job_seconds = Histogram(
            "steward_job_duration_seconds",
            "How long each job took.",
            ["job"],
            buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600),
            registry=r,
        )
        self.takeovers = Counter(
            "steward_lease_takeovers",
            "Jobs taken over from a worker whose lease expired, by job kind.",
            ["job"],
            registry=r,
        )
        self.requests = Counter(
            "steward_requests",
            "Requests to remote services (hub, RPC nodes).",
            ["target"],
            registry=r,
        )
        self.retries = Counter(
            "steward_request_retries",
            "Requests retried after a transient failure.",
            ["target"],
            registry=r,
        )
        self.rate_wait = Counter(
            "steward_rate_limit_wait_seconds",
            "Time spent waiting on a request budget before calling a target.",
            ["target"],
            registry=r,
        )
        self.embeddings = Counter(
            "steward_embeddings", "Vectors computed by the embedding model.", registry=r
        )
        self.votes = Counter(
            "steward_votes", "Votes cast, confirmed or failed.", ["event"], registry=r
        )
        self.refusals = Counter(
            "steward_votes_refused",
            "Votes refused by the guardrails, by reason (one count per reason given).",
            ["reason"],
            registry=r,
        )
        self.posts = Counter(
            "steward_posts", "Posts to Discord, by outcome (sent, failed).", ["outcome"], registry=r
        )
        self.lag = IngestLag(clock)
        r.register(self.lag)

    # ---- the Observer -------------------------------------------------------
    def job_done(self, job: str, ok: bool, seconds: float) -> None:
        name = _label(job)
        for outcome in ("ok", "failed"):  # both series exist from the first run: rate() works
            self.jobs.labels(name, outcome)
        self.jobs.labels(name, "ok" if ok else "failed").inc()
        self.job_seconds.labels(name).observe(max(seconds, 0.0))

    def request(self, target: str) -> None:
        name = _label(target)
        self.retries.labels(name)  # 0 retries is a value worth showing, not a missing series
        self.requests.labels(name).inc()

    def retry(self, target: str) -> None:
        self.retries.labels(_label(target)).inc()

    def ingest_synced(self, source: str, scope: str) -> None:
        self.lag.synced(source, scope)

    def embedded(self, vectors: int) -> None:
        if vectors > 0:
            self.embeddings.inc(vectors)

    def vote(self, event: str, reasons: Sequence[str] = ()) -> None:
        if event in VOTE_EVENTS:
            self.votes.labels(event).inc()
        elif event == "skipped":
            for reason in reasons or ("unknown",):
                self.refusals.labels(_label(reason)).inc()

    def posted(self, sent: int, failed: int) -> None:
        if sent:
            self.posts.labels("sent").inc(sent)
        if failed:
            self.posts.labels("failed").inc(failed)

    def lease_takeover(self, kind: str) -> None:
        self.takeovers.labels(_label(kind)).inc()

    def rate_waited(self, target: str, seconds: float) -> None:
        if seconds > 0:
            self.rate_wait.labels(_label(target)).inc(seconds)

    # ---- exposition ---------------------------------------------------------
    def render(self) -> bytes:
        """The Prometheus text format of everything above."""
        return generate_latest(self.registry)


class IngestLag(Collector):
    """Seconds since each source's scope was last read to the end, computed at scrape time
    (a gauge set at sync time would freeze at 0 exactly when ingest stops)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._last: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def synced(self, source: str, scope: str) -> None:
        with self._lock:
            self._last[(_label(source), _label(scope))] = self._clock()

    def describe(self) -> Iterable[Metric]:
        return [_lag_family(), _synced_family()]

    def collect(self) -> Iterable[Metric]:
        now = self._clock()
        lag, synced = _lag_family(), _synced_family()
        with self._lock:
            last = dict(self._last)
        for (source, scope), at in sorted(last.items()):
            lag.add_metric([source, scope], max(now - at, 0.0))
            synced.add_metric([source, scope], at)
        return [lag, synced]


def _lag_family() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "steward_ingest_lag_seconds",
        "Seconds since this worker last read the scope (space, governor) to the end.",
        labels=["source", "scope"],
    )


def _synced_family() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "steward_ingest_last_sync_timestamp_seconds",
        "When this worker last read the scope to the end (Unix time).",
        labels=["source", "scope"],
    )


def _label(value: str) -> str:
    return value[:_LABEL_MAX]
