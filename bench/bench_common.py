"""Helpers both benchmarks share: timing, load, an isolated STEWARD_HOME, machine facts."""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

Json = dict[str, Any]


@dataclass
class Timing:
    """Wall and process CPU seconds; CPU/wall below the core count hints at contention."""

    wall: float = 0.0
    cpu: float = 0.0


def shared_data() -> Path:
    """The shared data folder (`../shared/data` beside the checkout, or beside the folder
    of worktrees), or `STEWARD_SHARED_DATA`: a bench run from a worktree and one from the
    main checkout must read the same corpora."""
    if env := os.environ.get("STEWARD_SHARED_DATA"):
        return Path(env)
    root = Path(__file__).resolve().parent.parent
    found = [p / "shared" / "data" for p in (root.parent, root.parent.parent)]
    return next((p for p in found if p.is_dir()), found[0])


@contextmanager
def timed() -> Iterator[Timing]:
    """Time a block: wall clock and this process's CPU time (all threads)."""
    timing = Timing()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    try:
        yield timing
    finally:
        timing.wall = time.perf_counter() - wall0
        timing.cpu = time.process_time() - cpu0


def loadavg() -> list[float]:
    """1/5/15-minute load: other processes on a 2-core box skew every figure here."""
    return [round(x, 2) for x in os.getloadavg()]


def say(console: Console, message: str) -> None:
    """Progress line: a full run takes minutes."""
    console.print(f"[dim]{time.strftime('%H:%M:%S')}[/] {message}", highlight=False)


def isolate_environment(prefix: str) -> tuple[Path, list[str]]:
    """A fresh STEWARD_HOME, and no user config that could redirect the stores."""
    dropped = [k for k in os.environ if k == "STEWARD_CONFIG" or k.upper().startswith("STEWARD__")]
    for key in dropped:
        del os.environ[key]
    home = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["STEWARD_HOME"] = str(home)
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    return home, dropped


def machine_facts(**versions: str) -> Json:
    """What the figures were measured on (torch is loaded by now); `versions` adds more."""
    import numpy as np
    import sentence_transformers
    import torch

    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "sentence_transformers": sentence_transformers.__version__,
        "numpy": np.__version__,
        **versions,
    }


def run_in_fresh_home(
    prefix: str,
    args: Any,
    run: Callable[[Any, Path, Json, Console], None],
    checks: Callable[[Json], dict[str, bool]],
    console: Console,
) -> Json:
    """Run a benchmark in a temporary STEWARD_HOME; write and return its results."""
    started = time.perf_counter()
    home, dropped = isolate_environment(prefix)
    if dropped:
        say(console, f"[yellow]ignoring[/] {', '.join(dropped)} (the benchmark uses its own home)")
    results: Json = {"schema": 1, "loadavg_start": loadavg()}
    try:
        run(args, home, results, console)
    finally:
        if args.keep_home:
            say(console, f"kept {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)
    results["loadavg_end"] = loadavg()
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    results["checks"] = checks(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return results


def report_failed_checks(console: Console, results: Json) -> int:
    """Exit code 1 when any of the benchmark's own checks failed."""
    failed = [name for name, ok in results["checks"].items() if not ok]
    for name in failed:
        console.print(f"[bold red]FAILED:[/] {name}")
    return 1 if failed else 0


def figure_table(title: str, rows: list[tuple[str, str]], caption: str | None = None) -> Table:
    """A two-column report table (figure, value), as the ingest and analysis reports print."""
    table = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name, value in rows:
        table.add_row(name, value)
    return table
