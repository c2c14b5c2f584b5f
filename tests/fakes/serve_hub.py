"""Serve a local Snapshot-compatible hub for `make demo` (no network, no keys).

The stand-in for hub.snapshot.org that the test suite uses, seeded with the
real Yearn improvement proposals (CC0) on a timeline ending now: most closed,
one closing within two days, one open for longer, one not started, each with
seeded votes. Writes its URL to `--url-file` and serves until terminated.

    python -m tests.fakes.serve_hub --url-file /tmp/hub.url
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import threading
import time
from pathlib import Path

from tests.fakes.snapshot_data import fake_hex
from tests.fakes.snapshot_hub import FakeHub

HOUR = 3600
DAY = 24 * HOUR
ARCHIVE = Path(__file__).resolve().parents[2] / "config" / "demo" / "yearn-proposals.jsonl"
SPACE = "yearn"


def seed(hub: FakeHub, *, votes: int = 25, seed: int = 7) -> int:
    """Load the Yearn proposals, newest last, two days apart; returns how many."""
    rows = [json.loads(line) for line in ARCHIVE.read_text().splitlines() if line.strip()]
    rows.sort(key=lambda r: (str(r.get("created") or ""), str(r["id"])))
    rng = random.Random(seed)
    now = int(hub.now())
    hub.add_space(SPACE, name="Yearn", symbol="YFI", network="1", verified=True)
    voters = [fake_hex(f"yearn-voter-{i}", 40) for i in range(votes * 3)]
    for i, row in enumerate(rows):
        age = len(rows) - i  # the last row is the newest
        created = now - age * 2 * DAY
        start, end = created, created + 5 * DAY
        if age == 1:
            end = now + 30 * HOUR  # closing soon
        elif age == 2:
            end = now + 4 * DAY
        elif age == 3:
            start, end = now + DAY, now + 6 * DAY  # not started yet
        pid = fake_hex(f"{SPACE}:{row.get('file_name') or row['id']}")
        hub.add_proposal(
            SPACE,
            id=pid,
            title=f"{row['id']}: {row['title']}",
            body=row.get("body") or "",
            author=fake_hex(f"author:{row.get('authors')}", 40),
            created=created,
            start=start,
            end=end,
            choices=["For", "Against", "Abstain"],
            discussion=row.get("discussions_to") or "",
        )
        if start > now:
            continue
        weights = [20, 70, 10] if str(row.get("status")).lower() == "rejected" else [70, 20, 10]
        for voter in rng.sample(voters, votes):
            hub.add_vote(
                pid,
                voter=voter,
                choice=rng.choices([1, 2, 3], weights=weights)[0],
                vp=round(rng.paretovariate(1.3) * 50, 4),
                created=rng.randint(start, min(end, now) - 1),
            )
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url-file", type=Path, required=True)
    args = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with FakeHub() as hub:
        count = seed(hub)
        args.url_file.write_text(hub.url)
        print(f"local Snapshot hub with {count} Yearn proposals at {hub.url}", flush=True)
        while not stop.is_set():
            time.sleep(0.2)


if __name__ == "__main__":
    main()
