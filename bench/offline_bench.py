"""Offline analyst: time per proposal before and after, in one run on the same proposals.

Before: every embed call went to sentence-transformers' `encode` as is (texts sorted
by characters, padded per batch) and the analyst remembered the principle vectors of
one policy only, so two delegates with different policies made it re-embed them on
every switch. After: `SentenceTransformerEmbedder.embed` (distinct texts, batched by
token counts) and vectors kept per policy version and per proposal version. Both
sides draft the same ENS proposals against two policy versions, alternating, the
way the voting loop meets them with two delegates.

    .venv/bin/python bench/offline_bench.py [--proposals 30] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from bench_common import Json, isolate_environment, machine_facts

from agent.analysis.facts import extract_facts
from agent.analysis.offline import OfflineAnalyst
from agent.analysis.policy import Policy, load_policy
from agent.models import Proposal
from connectors.archive import to_proposal
from connectors.embeddings import SentenceTransformerEmbedder

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ARCHIVE = PROJECT_ROOT / "config" / "demo" / "ens-proposals.jsonl"
POLICY = PROJECT_ROOT / "config" / "policies" / "ens-constitution.md"
DEFAULT_OUT = PROJECT_ROOT / "bench" / "results" / "offline.json"


class EncodeAsBefore:
    """The embedder as it was: one `encode` call per `embed`, character-sorted batches."""

    def __init__(self, real: SentenceTransformerEmbedder) -> None:
        self.real, self.model_name, self.texts = real, real.model_name, 0

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.texts += len(texts)
        vectors = self.real._load().encode(
            list(texts),
            batch_size=self.real.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return list(vectors.tolist())


class Counting:
    def __init__(self, real: SentenceTransformerEmbedder) -> None:
        self.real, self.model_name, self.texts = real, real.model_name, 0

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.texts += len(texts)
        return self.real.embed(texts)


def draft_all(
    analyst: OfflineAnalyst, proposals: list[Proposal], policies: list[Policy], *, one_slot: bool
) -> list[float]:
    """Seconds per (proposal, policy) draft; `one_slot`: forget other policies' vectors."""
    seconds = []
    for proposal in proposals:
        facts = extract_facts(f"{proposal.title}\n\n{proposal.body}")
        for policy in policies:
            if one_slot:  # the analyst before kept a single policy's principle vectors
                analyst._principles = {
                    k: v for k, v in analyst._principles.items() if k == policy.hash
                }
                analyst._passages.clear()  # and no sentence vectors at all
            t0 = time.perf_counter()
            analyst.draft(proposal, policy, facts, [])
            seconds.append(time.perf_counter() - t0)
    return seconds


def summary(seconds: list[float], texts: int, drafts: int) -> Json:
    return {
        "drafts": drafts,
        "per_draft_ms_median": round(float(np.median(seconds)) * 1000, 1),
        "per_draft_ms_mean": round(float(np.mean(seconds)) * 1000, 1),
        "total_s": round(sum(seconds), 2),
        "texts_embedded": texts,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--proposals", type=int, default=30)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    isolate_environment("steward-offline-")
    lines = ARCHIVE.read_text(encoding="utf-8").splitlines()[: args.proposals]
    proposals = [to_proposal(json.loads(line), None) for line in lines]
    policy = load_policy(POLICY)
    policies = [policy, policy.model_copy(update={"title": "a second delegate's version"})]
    real = SentenceTransformerEmbedder()
    real.embed(["warm-up", "another warm-up text"])
    before_embedder, after_embedder = EncodeAsBefore(real), Counting(real)
    before = draft_all(OfflineAnalyst(before_embedder), proposals, policies, one_slot=True)  # type: ignore[arg-type]
    after = draft_all(OfflineAnalyst(after_embedder), proposals, policies, one_slot=False)  # type: ignore[arg-type]
    drafts = len(proposals) * len(policies)
    results: Json = {
        "proposals": len(proposals),
        "policy_versions": len(policies),
        "before": summary(before, before_embedder.texts, drafts),
        "after": summary(after, after_embedder.texts, drafts),
        "machine": machine_facts(),
    }
    per = {k: results[k]["total_s"] / len(proposals) for k in ("before", "after")}
    results["per_proposal_s"] = {k: round(v, 3) for k, v in per.items()}
    results["speedup"] = round(per["before"] / per["after"], 2)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(
        json.dumps(
            {k: results[k] for k in ("before", "after", "per_proposal_s", "speedup")}, indent=1
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
