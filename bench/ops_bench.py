"""What health and metrics cost `steward run` (issue 15, operations).

1. A whole `steward run --once` over the local Snapshot hub (45 Yearn proposals and
   their votes; index and analyst off), with and without `--http` (metrics collected
   and served), interleaved rounds, each in a fresh data directory.
2. One observer call (what every hub request, retry and job pays) with Metrics and with
   the default NullObserver.
3. A /metrics scrape with 500 spaces' ingest lag in it: `render()` alone and an HTTP GET
   through the server; /healthz over SQLite and the embedded Chroma.

    PYTHONPATH=. .venv/bin/python bench/ops_bench.py [--rounds 5] [--out bench/results/ops.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from agent.app import App
from agent.metrics import Metrics
from agent.observe import NullObserver
from agent.runner.http_server import OpsServer
from agent.runner.readiness import Readiness
from agent.runner.serve import run_service
from agent.settings import load_settings
from tests.fakes.serve_hub import seed
from tests.fakes.snapshot_hub import FakeHub

Json = dict[str, Any]


def _ms(values: list[float]) -> Json:
    values = sorted(values)
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return {
        "n": len(values),
        "p50_ms": round(statistics.median(values) * 1000, 3),
        "p95_ms": round(p95 * 1000, 3),
    }


def run_once(cfg: Path, http: str | None) -> tuple[float, float, int]:
    """One `steward run --once` in a fresh home: wall s, CPU s, hub requests counted."""
    home = Path(tempfile.mkdtemp(prefix="steward-opsbench-"))
    os.environ["STEWARD_HOME"] = str(home)
    app = App(load_settings(cfg))
    wall0, cpu0 = time.perf_counter(), time.process_time()
    ok = run_service(app, once=True, http=http)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    requests = 0
    if isinstance(app.observer, Metrics):
        requests = int(app.observer.requests.labels("snapshot_hub")._value.get())
    app.close()
    assert ok, "the run failed"
    return wall, cpu, requests


def bench_runs(rounds: int) -> Json:
    with FakeHub() as hub:
        seed(hub, votes=25)
        cfg = Path(tempfile.mkdtemp(prefix="steward-opsbench-cfg-")) / "config.yaml"
        cfg.write_text(
            f"snapshot:\n  hub_url: {hub.url}\n  spaces: [yearn]\n  max_retries: 0\n"
            "  requests_per_minute: 100000\nrun:\n  index: false\n  analyse: false\n"
        )
        run_once(cfg, None)  # warm imports and the hub
        off: list[tuple[float, float]] = []
        on: list[tuple[float, float]] = []
        requests = 0
        for _ in range(rounds):
            w, c, _r = run_once(cfg, None)
            off.append((w, c))
            w, c, requests = run_once(cfg, "127.0.0.1:0")
            on.append((w, c))
    med = {
        name: {
            "wall_s_median": round(statistics.median(w for w, _ in runs), 3),
            "cpu_s_median": round(statistics.median(c for _, c in runs), 3),
            "wall_s_all": [round(w, 3) for w, _ in runs],
        }
        for name, runs in (("without_metrics", off), ("with_metrics_and_http", on))
    }
    base = med["without_metrics"]["wall_s_median"]
    med["wall_overhead_pct"] = round(
        100 * (med["with_metrics_and_http"]["wall_s_median"] - base) / base, 1
    )
    med["hub_requests_per_run"] = requests
    return med


def bench_observer_calls(n: int = 200_000) -> Json:
    out: Json = {}
    for name, observer in (("null_observer", NullObserver()), ("metrics", Metrics())):
        t0 = time.perf_counter()
        for _ in range(n):
            observer.request("snapshot_hub")
        out[f"{name}_request_ns"] = round((time.perf_counter() - t0) / n * 1e9, 1)
    return out


def bench_scrape(scrapes: int = 200) -> Json:
    metrics = Metrics()
    for i in range(500):
        metrics.ingest_synced("snapshot", f"space-{i}.eth")
    for job in ("ingest", "analyse", "vote", "post"):
        metrics.job_done(job, True, 1.0)
    for target in ("snapshot_hub", "rpc:mainnet", "rpc:arbitrum"):
        metrics.request(target)
    for reason in ("injection", "low_confidence", "escalated", "hard_rule_failed"):
        metrics.vote("skipped", [reason])
    render = []
    for _ in range(scrapes):
        t0 = time.perf_counter()
        page = metrics.render()
        render.append(time.perf_counter() - t0)
    home = Path(tempfile.mkdtemp(prefix="steward-opsbench-health-"))
    os.environ["STEWARD_HOME"] = str(home)
    app = App(load_settings(None))
    readiness = Readiness(app.readiness_checks(), timeout_s=5)
    get, health = [], []
    with OpsServer("127.0.0.1", 0, readiness, metrics) as server, httpx.Client() as client:
        assert client.get(f"{server.url}/healthz").status_code == 200  # opens Chroma once
        for _ in range(scrapes):
            t0 = time.perf_counter()
            assert client.get(f"{server.url}/metrics").status_code == 200
            get.append(time.perf_counter() - t0)
        for _ in range(50):
            t0 = time.perf_counter()
            assert client.get(f"{server.url}/healthz").status_code == 200
            health.append(time.perf_counter() - t0)
    app.close()
    return {
        "series_in_page": page.decode().count("\n") - page.decode().count("#"),
        "page_bytes": len(page),
        "render": _ms(render),
        "http_get_metrics": _ms(get),
        "http_get_healthz_sqlite_embedded_chroma": _ms(health),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("bench/results/ops.json"))
    args = parser.parse_args()
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    results: Json = {"schema": 1, "loadavg_start": [round(x, 2) for x in os.getloadavg()]}
    results["run_once"] = bench_runs(args.rounds)
    results["observer_call"] = bench_observer_calls()
    results["scrape"] = bench_scrape()
    results["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    results["cpu_count"] = os.cpu_count()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
