"""The `run:` settings section: defaults, overrides, and intervals that must be positive."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.errors import ConfigError
from agent.settings import load_settings


def test_defaults_and_environment_override(monkeypatch: pytest.MonkeyPatch) -> None:
    run = load_settings().run
    assert (run.ingest_every_s, run.vote_every_s, run.index, run.analyse) == (600, 300, True, True)
    monkeypatch.setenv("STEWARD__RUN__VOTE_EVERY_S", "30")
    assert load_settings().run.vote_every_s == 30


@pytest.mark.parametrize("key", ["ingest_every_s", "analyse_every_s", "vote_every_s"])
def test_an_interval_must_be_positive(tmp_path: Path, key: str) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"run:\n  {key}: 0\n")
    with pytest.raises(ConfigError, match=f"run.{key}"):
        load_settings(cfg)
