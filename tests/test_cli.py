"""The `steward` command as a user runs it (in-process, real stores, small archive)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli.main import app
from tests.conftest import ENS_ARCHIVE, PROJECT

runner = CliRunner()


@pytest.fixture
def small_archive(tmp_path: Path) -> Path:
    path = tmp_path / "ens-small.jsonl"
    lines = ENS_ARCHIVE.read_text().splitlines()
    path.write_text("\n".join(lines[:6]) + "\n")
    return path


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout


def test_ingest_search_show_status(small_archive: Path) -> None:
    code, out = _run("ingest", "--from-file", str(small_archive), "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report["counts"]["new"] == 6 and report["index"]["embedded_proposals"] == 6
    code, out = _run("ingest", "--from-file", str(small_archive), "--json")
    assert json.loads(out)["index"]["embedded_chunks"] == 0

    code, out = _run("search", "transfer the treasury to the DAO", "--json", "--limit", "2")
    hits = json.loads(out)
    assert code == 0 and len(hits) == 2
    assert hits[0]["uid"] == "archive:ens.eth:ep0.1"

    code, out = _run("show", "ens.eth:ep0.1", "--json")
    shown = json.loads(out)
    assert shown["proposal"]["outcome"] == "Passed" and shown["indexed_chunks"] > 0
    code, out = _run("show", "ens.eth:ep0.1")
    assert code == 0 and "Transfer ENS Treasury" in out

    code, out = _run("status", "--json")
    status = json.loads(out)
    assert status["spaces"][0]["proposals"] == 6
    assert status["runs"][0]["status"] == "ok" and status["index_chunks"] > 0


def test_show_unknown_and_ambiguous(small_archive: Path) -> None:
    _run("ingest", "--from-file", str(small_archive), "--no-index")
    code, _ = _run("show", "nothing-like-this")
    assert code == 1
    result = runner.invoke(app, ["show", "archive:ens.eth:ep0"])
    assert result.exit_code == 1 and "ambiguous" in result.stderr


def test_bad_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("snapshot:\n  page_size: 5000\n")
    result = runner.invoke(app, ["--config", str(cfg), "status"])
    assert result.exit_code == 2 and "snapshot.page_size" in result.stderr


def test_ingest_without_spaces_explains(monkeypatch: pytest.MonkeyPatch) -> None:
    result = runner.invoke(app, ["ingest"])
    assert result.exit_code == 2 and "--space" in result.stderr


def test_ingest_failure_is_reported_not_a_traceback(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "snapshot:\n  hub_url: http://127.0.0.1:9/graphql\n  max_retries: 0\n  timeout_s: 0.5\n"
    )
    result = runner.invoke(app, ["--config", str(cfg), "ingest", "--space", "ens.eth"])
    assert result.exit_code == 1
    assert "connection failed" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("query", ["", "   "])
def test_blank_search_is_a_usage_error(query: str) -> None:
    result = runner.invoke(app, ["search", query])
    assert result.exit_code == 2 and "say what you are looking for" in result.stderr


def test_search_in_an_empty_store_says_nothing_is_stored(small_archive: Path) -> None:
    code, out = _run("search", "treasury")
    assert code == 0 and "Nothing is stored yet" in out and "No stored proposal" not in out
    _run("ingest", "--from-file", str(small_archive), "--no-index")
    code, out = _run("search", "treasury")
    assert code == 0 and "6 proposal(s) are stored but not indexed yet" in " ".join(out.split())


def test_an_error_to_a_pipe_is_one_line(tmp_path: Path) -> None:
    """Rich wrapped at 80 columns when stderr was not a terminal: one error, many lines."""
    path = tmp_path / ("an-archive-with-a-rather-long-name-" * 3 + ".jsonl")
    path.write_bytes('{"title": "Caf\u00e9"}\n'.encode("latin-1"))
    done = subprocess.run(
        [str(Path(sys.executable).with_name("steward")), "ingest", "--from-file", str(path)],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        timeout=60,
    )
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if "not UTF-8" in line]
    assert len(errors) == 1 and errors[0].startswith("error:"), done.stderr
    assert errors[0].rstrip().endswith("save the file as UTF-8 and import it again")


def test_help_starts_without_heavy_imports() -> None:
    code = (
        "import sys; from agent.cli.main import app; "
        "heavy = [m for m in ('torch', 'sentence_transformers', 'chromadb', 'transformers', "
        "'web3', 'eth_account', 'sqlalchemy', 'langchain_core', 'discord', 'prometheus_client') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT, check=True
    ).stdout
    assert out.strip() == "[]"
