"""Requests and time of a first Snapshot ingest of a large space (issue 17, finding 1).

A fake hub (tests/fakes, a real HTTP server on 127.0.0.1) holds 6,329 closed proposals:
6,200 without a vote in one large space, and 129 with 2,302 distinct votes between them
in another. `steward ingest`'s own pipeline (SnapshotSource → agent.ingest → SQLite) reads
both spaces, then a second run shows what an incremental ingest costs. The hub's rate
limit is off so the time is the client's and the fake's own; the figure a user waits for
on the real hub (about 100 requests a minute without an API key) is 0.6 s per request.

    PYTHONPATH=. .venv/bin/python bench/vote_paging_bench.py [--out bench/results/vote_paging.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.ingest import ingest
from agent.settings import SnapshotSettings
from agent.store import RecordStore
from connectors.snapshot import HubClient, SnapshotSource
from tests.fakes.snapshot_hub import FakeHub

BIG_SPACE, VOTED_SPACE = "big.eth", "voted.eth"
SILENT, VOTED, VOTES = 6_200, 129, 2_302
HUB_REQUESTS_PER_MINUTE = 100
T0 = 1_600_000_000


def seed(hub: FakeHub, rng: random.Random) -> None:
    """Closed, final proposals; the votes spread unevenly over the 129, one per voter each."""
    hub.add_space(BIG_SPACE)
    hub.add_space(VOTED_SPACE)
    for i in range(SILENT):
        c = T0 + i * 600
        hub.add_proposal(BIG_SPACE, title=f"S{i}", body="b", created=c, start=c, end=c + 3600)
    voted = []
    for i in range(VOTED):
        c = T0 + i * 86_400
        voted.append(
            hub.add_proposal(
                VOTED_SPACE, title=f"V{i}", body="b", created=c, start=c, end=c + 5 * 86_400
            )
        )
    weights = [rng.paretovariate(1.2) for _ in voted]
    owners = rng.choices(range(VOTED), weights=weights, k=VOTES)
    for n, i in enumerate(owners):
        p = voted[i]
        hub.add_vote(
            p["id"],
            voter=f"0x{n:040x}",
            created=p["start"] + rng.randrange(5 * 86_400),
            choice=rng.randint(1, 3),
        )


def run_once(hub: FakeHub, store: RecordStore, settings: SnapshotSettings) -> dict[str, Any]:
    client = HubClient(hub.url, timeout=60.0, requests_per_minute=1_000_000, max_retries=0)
    source = SnapshotSource(client, settings, [BIG_SPACE, VOTED_SPACE])
    before = len(hub.requests)
    wall0 = time.perf_counter()
    counts = ingest(source, store)
    wall = time.perf_counter() - wall0
    client.close()
    requests = len(hub.requests) - before
    vote_requests = sum(1 for r in hub.requests[before:] if "votes(" in r.get("query", ""))
    return {
        "requests": requests,
        "vote_requests": vote_requests,
        "wall_s": round(wall, 2),
        "at_hub_rate_limit_min": round(requests * 60 / HUB_REQUESTS_PER_MINUTE / 60, 1),
        "new_proposals": counts.new,
        "votes": counts.votes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench/results/vote_paging.json")
    parser.add_argument("--label", default="", help="stored with the figures (e.g. before/after)")
    args = parser.parse_args()
    settings = SnapshotSettings(hub_url="http://127.0.0.1")
    with tempfile.TemporaryDirectory() as home, FakeHub() as hub:
        seed(hub, random.Random(17))
        store = RecordStore(f"sqlite:///{Path(home) / 'steward.db'}")
        first = run_once(hub, store, settings)
        second = run_once(hub, store, settings)
        stored_votes = sum(len(store.votes(p.uid)) for p in store.proposals(source="snapshot"))
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "label": args.label,
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "hub": {"proposals": SILENT + VOTED, "silent": SILENT, "voted": VOTED, "votes": VOTES},
        "first_ingest": first,
        "second_ingest": second,
        "stored_votes": stored_votes,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
