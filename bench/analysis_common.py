"""Paths, fixed inputs and small statistics the analysis benchmark's parts share."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ParamSpec, TypeVar

import numpy as np
from bench_common import Json, shared_data

P = ParamSpec("P")
T = TypeVar("T")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ARCHIVE = PROJECT_ROOT / "config" / "demo" / "ens-proposals.jsonl"
POLICY_FILE = PROJECT_ROOT / "config" / "policies" / "ens-constitution.md"
DAO_CORPUS = shared_data() / "dao-proposals"
DEFAULT_OUT = PROJECT_ROOT / "bench" / "results" / "analysis.json"

CONFIDENCE_CAP = 0.5  # analysis.offline_confidence_cap in config/default.yaml
WARM_TEXTS = [
    "The DAO transfers 100,000 USDC to the working group.",
    "Registration fees discourage speculative registrations of short names.",
    "warm-up",
]
STAGES = (
    "cache lookup",
    "injection",
    "facts",
    "hard rules",
    "draft",
    "embedding (in draft)",
    "finalise",
    "save",
)
NESTED = {"embedding (in draft)"}  # inside "draft": not added again to the sum of stages

DIGEST_PROPOSALS = 50
DIGEST_REPEATS = 20
DIGEST_NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
"""Before any run of this benchmark, so a row's first_seen (the real clock) never counts
as "new": newness comes from `created` alone, as the timestamps below intend."""
DIGEST_SINCE = timedelta(hours=24)
CLOSING_WINDOW = timedelta(hours=48)
DIGEST_STEPS = ("build_digest", "render md", "render html", "render json", "split_for_discord")
SEED = 20240611
DIAG_TEXTS = 64
DIAG_ROUNDS = 2
NEAR_THRESHOLD = 0.05  # a relevant finding this close to the relevance threshold is a coin flip
_SIMILARITY = re.compile(r"similarity (-?\d+\.\d+)")
_FENCED = re.compile(r"^[ \t]*(?:```|~~~).*?^[ \t]*(?:```|~~~)", re.M | re.S)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_LEADING_NUMBER = re.compile(r"[\s#>*\-]*\d[\d,]*(?:\.\d+)?[ \t]*")


# ---- small helpers ---------------------------------------------------------
def stats(values: Sequence[float], unit: str, digits: int = 3) -> Json:
    """p50/p95/mean/min/max of a sample, keys suffixed with the unit (`s` or `ms`)."""
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        return {"n": 0}
    p50, p95 = np.percentile(arr, [50, 95])
    figures = {"p50": p50, "p95": p95, "mean": arr.mean(), "min": arr.min(), "max": arr.max()}
    return {"n": int(arr.size)} | {
        f"{name}_{unit}": round(float(value), digits) for name, value in figures.items()
    }


def share(part: float, whole: float) -> float | None:
    """A ratio rounded for the report; None when there is nothing to divide by."""
    return round(part / whole, 3) if whole else None


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"
