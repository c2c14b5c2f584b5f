"""A small real store for backtests: the first Aave proposals and their top voters' votes,
ingested once through the CLI (real SQLite, real Chroma, real MiniLM), copied per test."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli.main import app
from tests.conftest import ENS_ARCHIVE

GOV_PROPOSALS = ENS_ARCHIVE.parent / "aave-governor-proposals.jsonl"
GOV_VOTES = ENS_ARCHIVE.parent / "aave-governor-votes.jsonl"
PROPOSALS = 16
VOTER = "0x80DC468671316E50D4E9023D3db38D3105c1C146"
"""Votes on most of the subset, including AGAINST votes."""


def subset(tmp: Path, proposals: int = PROPOSALS) -> tuple[Path, Path]:
    lines = GOV_PROPOSALS.read_text().splitlines()[:proposals]
    ids = {json.loads(line)["proposal_id"] for line in lines}
    votes = [v for v in GOV_VOTES.read_text().splitlines() if json.loads(v)["proposal_id"] in ids]
    p, v = tmp / "proposals.jsonl", tmp / "votes.jsonl"
    p.write_text("\n".join(lines) + "\n")
    v.write_text("\n".join(votes) + "\n")
    return p, v


@pytest.fixture(scope="session")
def built_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("backtest-home")
    home = tmp / "home"
    p, v = subset(tmp)
    saved = {k: os.environ.get(k) for k in ("STEWARD_HOME", "STEWARD__CHUNKING__MAX_CHUNKS")}
    os.environ["STEWARD_HOME"] = str(home)
    os.environ["STEWARD__CHUNKING__MAX_CHUNKS"] = "1"  # one chunk each keeps the build short
    try:
        result = CliRunner().invoke(app, ["ingest", "--from-file", str(p), "--from-file", str(v)])
        assert result.exit_code == 0, result.output
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return home


@pytest.fixture
def gov_home(
    built_home: Path, steward_home: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """This test's own copy of the built store."""
    shutil.copytree(built_home, steward_home)
    monkeypatch.setenv("STEWARD__CHUNKING__MAX_CHUNKS", "1")
    yield steward_home
