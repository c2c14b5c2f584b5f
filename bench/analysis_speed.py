"""Analysis time per proposal: every step `analyse` calls, timed where the service looks it up."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest.mock import patch

from analysis_common import (
    ARCHIVE,
    CONFIDENCE_CAP,
    DIAG_ROUNDS,
    DIAG_TEXTS,
    NESTED,
    STAGES,
    WARM_TEXTS,
    P,
    T,
    share,
    stats,
)
from bench_common import (
    Json,
    loadavg,
    timed,
)

from agent.analysis import service
from agent.analysis.facts import extract_facts
from agent.analysis.injection import detect_injection
from agent.analysis.offline import OfflineAnalyst, candidate_sentences
from agent.analysis.policy import Policy
from agent.analysis.service import analyse
from agent.ingest import ingest
from agent.models import Proposal
from agent.records.assessment import Assessment
from agent.store import RecordStore
from connectors.archive import ArchiveSource
from connectors.embeddings import SentenceTransformerEmbedder


# ---- 1. analysis time per proposal ------------------------------------------
@dataclass
class StageClock:
    """Seconds spent in each stage, one row per analysed proposal."""

    rows: list[dict[str, float]] = field(default_factory=list)

    def next_proposal(self) -> None:
        self.rows.append(dict.fromkeys(STAGES, 0.0))

    def wrap(self, stage: str, fn: Callable[P, T]) -> Callable[P, T]:
        """`fn`, adding its wall time to `stage` of the current proposal."""

        def clocked(*args: P.args, **kwargs: P.kwargs) -> T:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                if self.rows:
                    row = self.rows[-1]
                    row[stage] = row.get(stage, 0.0) + time.perf_counter() - t0

        return clocked


@contextmanager
def instrumented(
    clock: StageClock, store: RecordStore, analyst: OfflineAnalyst, embedder: Any
) -> Iterator[None]:
    """Each step of `analyse`, wrapped where the service looks it up.

    `service` imported the step functions by name, so patching its module
    namespace times exactly what `analyse` runs; everything is restored on exit.
    """
    steps = {
        "injection": "detect_injection",
        "facts": "extract_facts",
        "hard rules": "evaluate_hard_rules",
        "finalise": "finalise",
    }
    bound = {
        "cache lookup": (store, "latest_assessment"),
        "save": (store, "save_assessment"),
        "draft": (analyst, "draft"),
        "embedding (in draft)": (embedder, "embed"),
    }
    with ExitStack() as stack:
        for stage, name in steps.items():
            wrapped = clock.wrap(stage, getattr(service, name))
            stack.enter_context(patch.object(service, name, wrapped))
        for stage, (owner, name) in bound.items():
            stack.enter_context(patch.object(owner, name, clock.wrap(stage, getattr(owner, name))))
        yield


def warm_up(embedder: SentenceTransformerEmbedder) -> Json:
    """Load the model and compile the extractors' regexes before any timing."""
    with timed() as load:
        embedder.embed(WARM_TEXTS)
    with timed() as again:
        embedder.embed(WARM_TEXTS)
    detect_injection(WARM_TEXTS[0])
    extract_facts(WARM_TEXTS[0])
    return {
        "model_load_and_first_embed_s": round(load.wall, 2),
        "warm_embed_s": round(again.wall, 3),
    }


def _ep_order(p: Proposal) -> list[tuple[int, str]]:
    """EP numbers in numeric order (`1.10` after `1.9`), whatever their parts are."""
    parts = str(p.extra.model_dump().get("ep", "")).split(".")
    return [(int(x), "") if x.isdigit() else (1 << 30, x) for x in parts]


def load_ens(store: RecordStore, limit: int | None) -> tuple[list[Proposal], Json]:
    """The ENS archive through the real ingest; the first `limit` proposals by EP order."""
    with timed() as t:
        counts = ingest(ArchiveSource(ARCHIVE), store)
    proposals = store.proposals(source="archive")
    proposals.sort(key=_ep_order)
    chosen = proposals[:limit] if limit else proposals
    return chosen, {"ingested": counts.new, "analysed": len(chosen), "ingest_s": round(t.wall, 3)}


def stage_breakdown(rows: list[dict[str, float]], total_s: float) -> Json:
    """Per stage: mean/p50/p95 ms per proposal, total seconds and share of analysis time."""
    out: Json = {}
    for stage in STAGES:
        ms = [row[stage] * 1000 for row in rows]
        out[stage] = stats(ms, "ms", 2) | {
            "total_s": round(sum(ms) / 1000, 3),
            "share": share(sum(ms) / 1000, total_s),
        }
    accounted = sum(sum(row[s] for s in STAGES if s not in NESTED) for row in rows)
    out["unaccounted (pydantic, glue)"] = {
        "total_s": round(total_s - accounted, 3),
        "share": share(total_s - accounted, total_s),
    }
    return out


def analysis_pass(
    proposals: list[Proposal],
    policy: Policy,
    analyst: OfflineAnalyst,
    store: RecordStore,
    before_each: Callable[[], None] = lambda: None,
) -> tuple[list[float], list[Assessment], list[str]]:
    """`analyse` on each proposal in turn: seconds per proposal, assessments, statuses."""
    seconds, assessments, statuses = [], [], []
    for proposal in proposals:
        before_each()
        t0 = time.perf_counter()
        outcome = analyse(proposal, policy, analyst, store, confidence_cap=CONFIDENCE_CAP)
        seconds.append(time.perf_counter() - t0)
        assessments.append(outcome.assessment)
        statuses.append(outcome.status)
    return seconds, assessments, statuses


def bench_analysis(
    proposals: list[Proposal],
    policy: Policy,
    embedder: SentenceTransformerEmbedder,
    store: RecordStore,
) -> tuple[Json, list[Assessment]]:
    """First analysis of every proposal (timed by stage), then the cached re-run."""
    analyst = OfflineAnalyst(embedder)
    clock = StageClock()
    texts_before = embedder.texts_embedded
    load_before = loadavg()
    with instrumented(clock, store, analyst, embedder), timed() as first:
        seconds, assessments, _ = analysis_pass(
            proposals, policy, analyst, store, before_each=clock.next_proposal
        )
    texts = embedder.texts_embedded - texts_before
    embed_s = sum(row["embedding (in draft)"] for row in clock.rows)
    with timed() as cached:
        again, _, statuses = analysis_pass(proposals, policy, analyst, store)
    recomputed = embedder.texts_embedded - texts_before - texts
    result = {
        "relevance_threshold": analyst.relevance,
        "confidence_cap": CONFIDENCE_CAP,
        "per_proposal": stats(seconds, "s"),
        "total_s": round(first.wall, 2),
        "cpu_s": round(first.cpu, 2),
        "cpu_over_wall": round(first.cpu / first.wall, 2),
        "loadavg_before": load_before,
        "loadavg_after": loadavg(),
        "texts_embedded": texts,
        "texts_per_proposal": round(texts / len(proposals), 1),
        "embedding_texts_per_s": round(texts / embed_s, 1) if embed_s else None,
        "principle_texts_reembedded": len(policy.principles) * len(proposals),
        "stages": stage_breakdown(clock.rows, sum(seconds)),
        "cached": {
            "per_proposal": stats([s * 1000 for s in again], "ms", 2),
            "total_s": round(cached.wall, 3),
            "statuses": dict(Counter(statuses)),
            "texts_embedded": recomputed,
            "ok": recomputed == 0 and set(statuses) == {"cached"},
        },
    }
    return result, assessments


def thread_diagnostic(embedder: SentenceTransformerEmbedder, proposals: list[Proposal]) -> Json:
    """Embedding throughput at torch's default thread count and at one thread, interleaved.

    Embedding is nearly all of the analysis time. On a shared 2-core box two
    torch threads can spin against other processes and run slower than one; if
    one thread wins here, the machine was contended and the figures above are
    pessimistic for a quiet machine.
    """
    import torch

    texts = [s for p in proposals for s in candidate_sentences(p.body)][:DIAG_TEXTS]
    default = torch.get_num_threads()
    seconds = dict.fromkeys(dict.fromkeys([default, 1]), 0.0)
    try:
        for _ in range(DIAG_ROUNDS):
            for threads in seconds:
                torch.set_num_threads(threads)
                t0 = time.perf_counter()
                embedder.embed(texts)
                seconds[threads] += time.perf_counter() - t0
    finally:
        torch.set_num_threads(default)
    return {
        "texts": len(texts),
        "rounds": DIAG_ROUNDS,
        "default_threads": default,
        "texts_per_s": {
            f"{n} thread(s)": round(DIAG_ROUNDS * len(texts) / sec, 1) for n, sec in seconds.items()
        },
        "loadavg": loadavg(),
    }
