"""Digest time: 50 analysed proposals around a fixed `now`, built and rendered 20 times."""

from __future__ import annotations

import random
import time
from datetime import timedelta
from hashlib import sha256
from pathlib import Path
from typing import Literal
from unittest.mock import patch

import jinja2
from analysis_common import (
    CLOSING_WINDOW,
    DIGEST_NOW,
    DIGEST_PROPOSALS,
    DIGEST_REPEATS,
    DIGEST_SINCE,
    DIGEST_STEPS,
    SEED,
    stats,
)
from analysis_speed import StageClock
from bench_common import Json

from agent.analysis.decide import choice_for
from agent.analysis.policy import Policy
from agent.digest import build_digest, render, split_for_discord
from agent.digest.discord import DISCORD_LIMIT
from agent.models import Proposal
from agent.records.assessment import Assessment
from agent.store import RecordStore

# ---- 2. digest time for 50 proposals ----------------------------------------
Kind = Literal["new", "closing", "ended"]
KINDS: tuple[Kind, ...] = ("new", "closing", "ended")


def _hours(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(hours=rng.uniform(low, high))


def _times(kind: Kind, rng: random.Random) -> Json:
    """created/start/end/state for one digest section, around DIGEST_NOW."""
    now = DIGEST_NOW
    if kind == "new":  # created in the last 24 h, voting for days yet
        created = now - _hours(rng, 0.5, 23)
        return {"created": created, "start": created, "end": now + _hours(rng, 72, 168)}
    if kind == "closing":  # created days ago, ends within 48 h
        created = now - _hours(rng, 96, 192)
        return {"created": created, "start": created, "end": now + _hours(rng, 1, 47)}
    created = now - _hours(rng, 192, 288)  # ended in the last 24 h
    return {"created": created, "start": created, "end": now - _hours(rng, 1, 23)}


def _tally(kind: Kind, rng: random.Random) -> Json:
    """Snapshot-like scores: For/Against/Abstain, some ended ones short of quorum."""
    total = rng.uniform(0.3e6, 4e6) if kind != "new" else rng.uniform(1e4, 5e5)
    weights = [rng.uniform(0.05, 1.0) for _ in range(3)]
    scores = [round(total * w / sum(weights), 2) for w in weights]
    return {
        "scores": scores,
        "scores_total": sum(scores),
        "scores_final": kind == "ended",
        "votes_count": rng.randint(20, 900),
        "quorum": 1e6,
    }


def digest_proposal(source: Proposal, index: int, kind: Kind, rng: random.Random) -> Proposal:
    """A Snapshot proposal carrying a real ENS title and body, timed for `kind`."""
    pid = "0x" + sha256(f"bench-digest-{index}".encode()).hexdigest()
    return Proposal(
        source="snapshot",
        space="ens.eth",
        id=pid,
        title=source.title,
        body=source.body,
        choices=["For", "Against", "Abstain"],
        type="single-choice",
        state="closed" if kind == "ended" else "active",
        author="0x" + sha256(f"author-{index % 7}".encode()).hexdigest()[:40],
        discussion=source.discussion,
        link=f"https://snapshot.org/#/ens.eth/proposal/{pid}",
        **_times(kind, rng),
        **_tally(kind, rng),
    )


def build_digest_store(
    path: Path, sources: list[tuple[Proposal, Assessment]], policy: Policy
) -> RecordStore:
    """50 analysed proposals, a third each new, closing and ended.

    Assessments are the real offline ones of the ENS proposals whose text the
    digest proposal carries, re-keyed (uid, choice label, content hash).
    """
    rng = random.Random(SEED)
    store = RecordStore(f"sqlite:///{path}")
    pairs = []
    for i in range(DIGEST_PROPOSALS):
        source, assessment = sources[i % len(sources)]
        p = digest_proposal(source, i, KINDS[i % len(KINDS)], rng)
        provenance = assessment.provenance.model_copy(update={"content_hash": p.content_hash})
        update = {
            "proposal_uid": p.uid,
            "choice": choice_for(assessment.recommendation, p, policy),
            "provenance": provenance,
        }
        pairs.append((p, assessment.model_copy(update=update)))
    store.apply_proposals([p for p, _ in pairs])
    for _, a in pairs:
        store.save_assessment(a)
    return store


def digest_round(store: RecordStore, policy_id: str) -> tuple[dict[str, float], Json]:
    """One build and every rendering; milliseconds per step, and what came out."""
    ms: dict[str, float] = {}
    t0 = time.perf_counter()
    d = build_digest(
        store,
        now=DIGEST_NOW,
        since=DIGEST_SINCE,
        policy_id=policy_id,
        closing_window=CLOSING_WINDOW,
    )
    ms["build_digest"] = (time.perf_counter() - t0) * 1000
    texts = {}
    for fmt in ("md", "html", "json"):
        t0 = time.perf_counter()
        texts[fmt] = render(d, fmt)
        ms[f"render {fmt}"] = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    messages = split_for_discord(texts["md"])
    ms["split_for_discord"] = (time.perf_counter() - t0) * 1000
    shape = {
        "sections": {"new": len(d.new), "closing": len(d.closing), "ended": len(d.ended)},
        "chars": {fmt: len(text) for fmt, text in texts.items()},
        "discord_messages": len(messages),
        "longest_message": max(len(m) for m in messages),
    }
    return ms, shape


def template_compile_ms(store: RecordStore, policy_id: str) -> float:
    """Milliseconds of one md+html render spent compiling Jinja templates.

    The renderers build a new Environment per call; if this is most of their
    time, caching the Environment is the fix.
    """
    clock = StageClock()
    d = build_digest(store, now=DIGEST_NOW, since=DIGEST_SINCE, policy_id=policy_id)
    clock.next_proposal()
    compile_ = clock.wrap("compile", jinja2.Environment.compile)
    with patch.object(jinja2.Environment, "compile", compile_):
        render(d, "md")
        render(d, "html")
    return round(clock.rows[0].get("compile", 0.0) * 1000, 2)


def bench_digest(home: Path, assessed: list[tuple[Proposal, Assessment]], policy: Policy) -> Json:
    """p50/p95 of build_digest, each renderer and the Discord split over DIGEST_REPEATS."""
    store = build_digest_store(home / "digest.db", assessed, policy)
    try:
        digest_round(store, policy.id)  # warm: first queries, template files in the page cache
        samples: dict[str, list[float]] = {step: [] for step in (*DIGEST_STEPS, "total")}
        shape: Json = {}
        for _ in range(DIGEST_REPEATS):
            ms, shape = digest_round(store, policy.id)
            for step, value in ms.items():
                samples[step].append(value)
            samples["total"].append(sum(ms.values()))
        compile_ms = template_compile_ms(store, policy.id)
    finally:
        store.close()
    return {
        "proposals": DIGEST_PROPOSALS,
        "repeats": DIGEST_REPEATS,
        "now": DIGEST_NOW.isoformat(),
        "since_h": DIGEST_SINCE.total_seconds() / 3600,
        "closing_window_h": CLOSING_WINDOW.total_seconds() / 3600,
        "steps": {step: stats(ms, "ms", 2) for step, ms in samples.items()},
        "jinja_compile_ms_md_html": compile_ms,
        "discord_limit": DISCORD_LIMIT,
        **shape,
    }
