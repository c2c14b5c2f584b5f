"""One ingest per data directory: real `steward` processes against the local hub.

Two `steward ingest` runs on one directory used to race each other's inserts
(`UNIQUE constraint failed: proposals.uid`). The first one is held inside the hub's
answer (an event, not a sleep) while the others try their luck.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from agent.store import RecordStore
from tests.conftest import PROJECT
from tests.fakes.serve_hub import seed
from tests.fakes.snapshot_hub import FakeHub

STEWARD = str(Path(sys.executable).with_name("steward"))


def _steward(config: Path, *args: str) -> list[str]:
    return [STEWARD, "--config", str(config), *args]


def test_second_ingest_is_refused_and_run_waits_its_turn(
    tmp_path: Path, steward_home: Path
) -> None:
    entered, release = threading.Event(), threading.Event()
    with FakeHub() as hub:
        count = seed(hub, votes=3)
        execute, held = hub.execute, []

        def hold_first_proposals_page(query: str, *args: Any, **kwargs: Any) -> Any:
            if "Proposals(" in query and not held:
                held.append(query)
                entered.set()
                release.wait(timeout=120)
            return execute(query, *args, **kwargs)

        hub.execute = hold_first_proposals_page  # type: ignore[method-assign]
        config = tmp_path / "config.yaml"
        config.write_text(
            f"snapshot:\n  hub_url: {hub.url}\n  spaces: [yearn]\n  max_retries: 0\n"
            "  requests_per_minute: 100000\n  timeout_s: 120\n"
            "run:\n  index: false\n  analyse: false\n"
        )
        first = subprocess.Popen(
            _steward(config, "ingest", "--no-index"),
            cwd=PROJECT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert entered.wait(timeout=60), "the first ingest never reached the hub"
            second = subprocess.run(
                _steward(config, "ingest", "--no-index"),
                cwd=PROJECT,
                capture_output=True,
                text=True,
                timeout=60,
            )
            refusal = " ".join(second.stderr.split())
            assert second.returncode == 1, second.stderr
            assert f"another ingest (process {first.pid}) is writing to" in refusal
            assert "Traceback" not in second.stderr
            # `steward run`'s ingest job steps aside too, and says why.
            subprocess.run(
                _steward(config, "run", "--once"), cwd=PROJECT, capture_output=True, timeout=60
            )
            beat = json.loads((steward_home / "run.json").read_text())
            assert "another ingest" in (beat["jobs"]["ingest"]["last_error"] or "")
        finally:
            release.set()
            assert first.wait(timeout=60) == 0, first.stderr.read() if first.stderr else ""
    store = RecordStore(f"sqlite:///{steward_home / 'steward.db'}")
    assert len(store.proposals(source="snapshot")) == count
    assert [r.status for r in store.last_runs(5)] == ["ok"]
