"""Cluster mode: how work spreads over workers, how fast a dead one is replaced, and
what the database-backed locks cost.

- Throughput: 1, 2 and 3 real `steward run` workers on one throwaway PostgreSQL over the
  local hub with `--spaces` spaces (2 proposals, 3 votes each), from the first worker's
  start until every space's ingest unit is done; proposals ingested per minute. Run
  twice: with the hub unlimited, and with a shared budget of `--rpm` requests a minute
  (where the hub's limit binds, more workers cannot help: the budget is shared, not
  multiplied). Indexing is off there; a last run (`--indexed-spaces`) ingests and indexes
  with the real model into a Chroma server, to show what embedding, CPU work, does to it.
- Takeover: two workers, one held inside the hub's answer and killed with -9; seconds
  from the kill until the other holds the dead worker's lease (bounded by lease_s plus
  one poll).
- Locks: one vote lock taken and released, file lock vs database lease (SQLite, PostgreSQL),
  and one request slot of the shared rate budget on PostgreSQL.

    .venv/bin/python bench/cluster_bench.py [--spaces 150] [--rpm 30] [--bound-spaces 20]
        [--out bench/results/cluster.json]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.cluster.rate_budget import SharedRateLimiter  # noqa: E402
from agent.cluster.vote_locks import DbVoteLocks  # noqa: E402
from agent.cluster.worker import ClusterWorker  # noqa: E402
from agent.settings import ClusterSettings  # noqa: E402
from agent.store import RecordStore  # noqa: E402
from agent.store.leases import LeaseStore  # noqa: E402
from agent.voting.lock import VoteLocks  # noqa: E402
from tests.cluster.harness import (  # noqa: E402
    Postgres,
    Worker,
    seed_spaces,
    wait_until,
    write_config,
)
from tests.fakes.snapshot_hub import FakeHub  # noqa: E402

PROPOSALS, VOTES = 2, 3


def fresh_db(pg: Postgres, name: str) -> str:
    from sqlalchemy import create_engine, text

    admin = create_engine(pg.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return pg.url.rsplit("/", 1)[0] + f"/{name}"


def all_done(store: RecordStore, spaces: list[str]) -> bool:
    leases = LeaseStore(store.engine)
    now = leases.now()
    rows = {r.name: r for r in leases.rows("ingest:")}
    return all(
        (r := rows.get(f"ingest:snapshot:{s}")) is not None and r.holder is None and r.due_at > now
        for s in spaces
    )


def throughput(
    pg: Postgres,
    hub: FakeHub,
    spaces: list[str],
    n: int,
    rpm: int,
    tag: str,
    chroma_url: str | None = None,
) -> dict[str, Any]:
    """With `chroma_url` the workers also index, and the clock stops when nothing is left
    to embed as well."""
    tmp = Path(tempfile.mkdtemp(prefix="steward-cluster-bench-"))
    url = fresh_db(pg, f"bench_{tag}_{n}")
    RecordStore(url).close()  # migrated before the clock starts
    config = write_config(
        tmp / "config.yaml",
        hub.url,
        url,
        spaces,
        lease_s=10,
        renew_every_s=1,
        requests_per_minute=rpm,
        chroma_url=chroma_url,
    )
    execute, asked = hub.execute, [0]

    def counted(*a: Any, **kw: Any) -> Any:
        asked[0] += 1
        return execute(*a, **kw)

    hub.execute = counted  # type: ignore[method-assign]
    workers = [Worker(config, tmp / f"w{i}") for i in range(n)]
    store = RecordStore(url)
    try:
        # From the moment every worker has joined: process start-up (imports) is not
        # cluster work, and on 2 shared cores it would swamp the figure.
        wait_until(lambda: _joined(store) >= n, 300, "the workers to join", poll=0.05)
        started = time.monotonic()
        wait_until(
            lambda: all_done(store, spaces) and not (chroma_url and store.index_tasks()),
            1800,
            "every space" + (" ingested and indexed" if chroma_url else ""),
            poll=0.2,
        )
        elapsed = time.monotonic() - started
    finally:
        hub.execute = execute  # type: ignore[method-assign]
        for w in workers:
            w.stop()
    stored = len(store.proposals(source="snapshot"))
    store.close()
    assert stored == len(spaces) * PROPOSALS, stored
    return {
        "workers": n,
        "requests_per_minute": rpm,
        "seconds": round(elapsed, 2),
        "proposals": stored,
        "proposals_per_minute": round(stored / elapsed * 60, 1),
        "spaces_per_minute": round(len(spaces) / elapsed * 60, 1),
        "hub_requests": asked[0],
    }


def indexed(pg: Postgres, hub: FakeHub, spaces: list[str]) -> list[dict[str, Any]]:
    """Ingested and indexed per minute with the real embedding model into one Chroma server.
    Embedding is CPU work, and the index job is one lease (one worker embeds at a time), so
    on 2 shared cores this shows what extra workers cost, not what they add."""
    from tests.cluster.chroma_server import chroma_server

    rows = []
    for n in (1, 2, 3):
        with chroma_server(Path(tempfile.mkdtemp(prefix="steward-bench-chroma-"))) as chroma:
            rows.append(throughput(pg, hub, spaces, n, 100_000, f"indexed{n}", chroma.url))
    return rows


def with_latency(
    pg: Postgres, hub: FakeHub, spaces: list[str], latency_s: float
) -> list[dict[str, Any]]:
    """1-3 workers against a hub that takes `latency_s` to answer (no rate limit).

    On 2 shared cores the unbounded run is CPU-bound (hub and workers compete), which
    hides what a deployment gains: against the real hub each worker mostly waits on
    the network, and several workers overlap those waits.
    """
    execute = hub.execute

    def slow(*a: Any, **kw: Any) -> Any:
        time.sleep(latency_s)
        return execute(*a, **kw)

    hub.execute = slow  # type: ignore[method-assign]
    try:
        rows = [throughput(pg, hub, spaces, n, 100_000, "latency") for n in (1, 2, 3)]
    finally:
        hub.execute = execute  # type: ignore[method-assign]
    for row in rows:
        row["latency_ms"] = round(latency_s * 1000)
    return rows


def _joined(store: RecordStore) -> int:
    from agent.store.workers import WorkerRegistry

    try:
        return len(WorkerRegistry(store.engine).all())
    except Exception:  # noqa: BLE001 - tables not there yet
        return 0


def takeover(pg: Postgres, hub: FakeHub, spaces: list[str], lease_s: float) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="steward-cluster-takeover-"))
    url = fresh_db(pg, "bench_takeover")
    RecordStore(url).close()
    entered, release = threading.Event(), threading.Event()
    execute, victim_space = hub.execute, spaces[len(spaces) // 2]

    def hold(query: str, variables: Any = None, *args: Any) -> Any:
        asked = query + json.dumps(variables or {})
        if "proposals(" in asked.lower() and f'"{victim_space}"' in asked and not entered.is_set():
            entered.set()
            release.wait(timeout=120)
        return execute(query, variables, *args)

    hub.execute = hold  # type: ignore[method-assign]
    config = write_config(
        tmp / "config.yaml", hub.url, url, spaces, lease_s=lease_s, renew_every_s=1
    )
    workers = [Worker(config, tmp / f"w{i}") for i in range(2)]
    store = RecordStore(url)
    leases = LeaseStore(store.engine)
    name = f"ingest:snapshot:{victim_space}"
    try:
        assert entered.wait(timeout=180)
        holder = next(r.holder for r in leases.rows(name) if r.name == name)
        assert holder is not None
        victim = next(w for w in workers if w.pid == int(holder.split(":")[1]))
        killed = time.monotonic()
        os.kill(victim.pid, signal.SIGKILL)
        release.set()

        def taken() -> bool:
            row = next(r for r in leases.rows(name) if r.name == name)
            return row.takeovers >= 1

        wait_until(taken, 120, "the takeover", poll=0.02)
        seconds = time.monotonic() - killed
    finally:
        release.set()
        hub.execute = execute  # type: ignore[method-assign]
        for w in workers:
            w.stop()
        store.close()
    return {
        "lease_s": lease_s,
        "renew_every_s": 1,
        "seconds_from_kill_to_takeover": round(seconds, 2),
    }


def lock_costs(pg: Postgres, reps: int = 300) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="steward-cluster-locks-"))
    out: dict[str, Any] = {"reps": reps}
    files = VoteLocks(tmp / "locks")
    out["file_lock_ms"] = _per_op(lambda i: _hold(files, i), reps)
    for label, url in (
        ("sqlite", f"sqlite:///{tmp / 'db.sqlite'}"),
        ("postgresql", fresh_db(pg, "bench_locks")),
    ):
        store = RecordStore(url)
        worker = ClusterWorker(store.engine, ClusterSettings(worker_id="bench"), "bench")
        locks = DbVoteLocks(worker)
        out[f"db_lock_{label}_ms"] = _per_op(partial(_hold, locks), reps)
        out[f"db_lock_{label}_with_fence_check_ms"] = _per_op(
            partial(_hold, locks, fence=True), reps
        )
        limiter = SharedRateLimiter(store.engine, "bench", 1000, 60.0)  # 10x the hub's
        limiter.acquire()  # slots created outside the clock
        out[f"rate_slot_{label}_ms"] = _per_op(lambda _i, lim=limiter: lim.acquire(), reps)
        store.close()
    return out


def _hold(locks: Any, i: int, *, fence: bool = False) -> None:
    with locks.hold("alice", f"snapshot:0x{i:04x}", timeout=1.0):
        if fence:
            assert locks.still_held()


def _per_op(fn: Any, reps: int) -> float:
    started = time.perf_counter()
    for i in range(reps):
        fn(i)
    return round((time.perf_counter() - started) / reps * 1000, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spaces", type=int, default=150)
    parser.add_argument("--rpm", type=int, default=30)
    parser.add_argument("--bound-spaces", type=int, default=20)
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=200.0,
        help="added to each hub answer in the latency run: a real hub is a network away, "
        "so a worker mostly waits, and that wait is what more workers share out",
    )
    parser.add_argument("--latency-spaces", type=int, default=60)
    parser.add_argument(
        "--indexed-spaces",
        type=int,
        default=40,
        help="spaces ingested and indexed (real model, Chroma server) by 1-3 workers; 0: skip",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "cluster.json")
    args = parser.parse_args()
    for key in [k for k in os.environ if k.startswith("STEWARD__") or k == "STEWARD_CONFIG"]:
        del os.environ[key]
    pg = Postgres()
    pg.start()
    results: dict[str, Any] = {"cpus": os.cpu_count(), "spaces": args.spaces}
    try:
        with FakeHub() as hub:
            spaces = seed_spaces(hub, args.spaces, PROPOSALS, VOTES)
            results["unbounded"] = [
                throughput(pg, hub, spaces, n, 100_000, "free") for n in (1, 2, 3)
            ]
            print(json.dumps(results["unbounded"]), flush=True)
            results["hub_latency"] = with_latency(
                pg, hub, spaces[: args.latency_spaces], args.latency_ms / 1000
            )
            print(json.dumps(results["hub_latency"]), flush=True)
            bound = spaces[: args.bound_spaces]
            # The hub enforces its limit (429s) a little above the budget the workers share.
            hub.requests_per_minute = int(args.rpm * 1.1) + 1
            limited, refused = hub._rate_limited, [0]

            def counting(headers: dict[str, str]) -> Any:
                reply = limited(headers)
                refused[0] += reply is not None
                return reply

            hub._rate_limited = counting  # type: ignore[method-assign]
            results["hub_limit_binds"] = []
            for n in (1, 3):
                refused[0] = 0
                row = throughput(pg, hub, bound, n, args.rpm, "bound")
                row["hub_429s"] = refused[0]
                results["hub_limit_binds"].append(row)
                hub._hits.clear()  # the next run starts with a fresh minute
            hub.requests_per_minute = None
            print(json.dumps(results["hub_limit_binds"]), flush=True)
            results["takeover"] = takeover(pg, hub, spaces[:40], lease_s=5)
            print(json.dumps(results["takeover"]), flush=True)
            if args.indexed_spaces:
                results["indexed"] = indexed(pg, hub, spaces[: args.indexed_spaces])
                print(json.dumps(results["indexed"]), flush=True)
        results["locks"] = lock_costs(pg)
        print(json.dumps(results["locks"]), flush=True)
    finally:
        pg.remove()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
