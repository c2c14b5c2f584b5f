"""Every import arrow points down: the store below the features that use it, connectors
behind ports, and only the composition root (`agent/app/`) picking a connector.

Walks every `import` with `ast` (type-only and function-level ones included), so an
upward arrow fails here before it can grow into a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FEATURES = (
    "agent.analysis",
    "agent.app",
    "agent.backtest",
    "agent.chat",
    "agent.cli",
    "agent.digest",
    "agent.indexer",
    "agent.ingest",
    "agent.runner",
    "agent.search",
    "agent.simulate",
    "agent.steps",
    "agent.voters",
    "agent.voting",
)
"""What sits above the record store and reads or writes through it."""

RULES: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    # (files under, may not import, except files under)
    ("agent/store", FEATURES, ()),
    ("agent/records", (*FEATURES, "agent.store"), ()),
    ("agent/models.py", ("agent.",), ()),
    ("connectors", ("agent.store", "agent.app", "agent.cli", "agent.runner"), ()),
    ("agent", ("connectors",), ("agent/app",)),
]


def imported(root: Path, path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in `path`, relative ones resolved."""
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            found.append((node.lineno, module))
    return sorted(found)


def within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(
        module == p.rstrip(".") or module.startswith(p if p.endswith(".") else p + ".")
        for p in prefixes
    )


def violations(
    root: Path, under: str, banned: tuple[str, ...], exempt: tuple[str, ...]
) -> list[str]:
    start = root / under
    files = [start] if start.suffix == ".py" else sorted(start.rglob("*.py"))
    found = []
    for path in files:
        rel = path.relative_to(root).as_posix()
        if any(rel.startswith(e + "/") for e in exempt):
            continue
        found += [f"{rel}:{line}: {m}" for line, m in imported(root, path) if within(m, banned)]
    return found


@pytest.mark.parametrize(("under", "banned", "exempt"), RULES, ids=[r[0] for r in RULES])
def test_no_import_points_up(under: str, banned: tuple[str, ...], exempt: tuple[str, ...]) -> None:
    found = violations(ROOT, under, banned, exempt)
    assert not found, f"{under} may not import {', '.join(banned)}:\n" + "\n".join(found)


def test_an_upward_import_is_caught(tmp_path: Path) -> None:
    """The walk sees type-only, function-level and relative imports alike."""
    store = tmp_path / "agent" / "store"
    store.mkdir(parents=True)
    (store / "fine.py").write_text("from agent.models import Proposal\nfrom . import schema\n")
    (store / "bad.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from agent.voting.models import Intent\n"
        "def f():\n    import agent.analysis.llm\n"
        "from ..chat import builders\n"
    )
    found = violations(tmp_path, "agent/store", FEATURES, ())
    assert found == [
        "agent/store/bad.py:3: agent.voting.models",
        "agent/store/bad.py:5: agent.analysis.llm",
        "agent/store/bad.py:6: agent.chat",
    ]
