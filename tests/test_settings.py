"""Configuration: defaults < user YAML < environment, validated with the key named."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.errors import ConfigError
from agent.settings import load_settings


def test_defaults_and_home_from_env(steward_home: Path) -> None:
    s = load_settings()
    assert s.snapshot.hub_url == "https://hub.snapshot.org/graphql"
    assert s.home == steward_home
    assert s.database_url == f"sqlite:///{steward_home / 'steward.db'}"
    assert s.chroma_path == steward_home / "chroma"


def test_user_file_then_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "steward.yaml"
    cfg.write_text("snapshot:\n  spaces: [ens.eth]\n  hub_url: http://127.0.0.1:1/graphql\n")
    assert load_settings(cfg).snapshot.spaces == ["ens.eth"]
    monkeypatch.setenv("STEWARD__SNAPSHOT__HUB_URL", "http://127.0.0.1:2/graphql")
    monkeypatch.setenv("STEWARD__SNAPSHOT__SPACES", "a.eth, b.eth")
    s = load_settings(cfg)
    assert s.snapshot.hub_url.endswith(":2/graphql")
    assert s.snapshot.spaces == ["a.eth", "b.eth"]
    assert s.snapshot.requests_per_minute == 90  # untouched defaults survive the merge
    monkeypatch.setenv("STEWARD_CONFIG", str(cfg))
    assert load_settings().snapshot.hub_url.endswith(":2/graphql")


def test_invalid_value_names_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEWARD__SNAPSHOT__REQUESTS_PER_MINUTE", "lots")
    with pytest.raises(ConfigError, match=r"snapshot\.requests_per_minute"):
        load_settings()


def test_unknown_key_and_bad_yaml_are_errors(tmp_path: Path) -> None:
    typo = tmp_path / "typo.yaml"
    typo.write_text("snapshot:\n  hub_ulr: x\n")
    with pytest.raises(ConfigError, match=r"snapshot\.hub_ulr: unknown setting"):
        load_settings(typo)
    broken = tmp_path / "broken.yaml"
    broken.write_text("snapshot: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(broken)
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "missing.yaml")


def test_chunking_overlap_must_be_smaller(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("chunking:\n  max_words: 50\n  overlap_words: 60\n")
    with pytest.raises(ConfigError, match=r"chunking\.overlap_words"):
        load_settings(cfg)


def test_api_key_is_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEWARD__SNAPSHOT__API_KEY", "hunter2-key")
    s = load_settings()
    assert s.snapshot.api_key is not None
    assert s.snapshot.api_key.get_secret_value() == "hunter2-key"
    assert "hunter2-key" not in repr(s) and "hunter2-key" not in str(s.model_dump())


def test_the_data_directory_layout_is_said_once(tmp_path: Path) -> None:
    """Settings, locks, audit head and heartbeat all take their paths from DataHome."""
    from agent.home import DataHome
    from agent.runner.health import HeartbeatFile
    from agent.settings import Settings
    from agent.voting.audit import head_path
    from agent.voting.lock import instance_lock

    home = DataHome(tmp_path)
    settings = Settings(home=tmp_path)
    assert settings.database_url == f"sqlite:///{home.database}"
    assert (settings.chroma_path, settings.pause_path) == (home.chroma, home.pause_file)
    assert head_path(tmp_path) == home.audit_head
    assert HeartbeatFile(tmp_path).path == home.heartbeat
    assert instance_lock(tmp_path).path == home.instance_lock
    paths = [getattr(home, name) for name in vars(DataHome) if not name.startswith("_")]
    paths = [p for p in paths if isinstance(p, Path)]
    assert len(set(paths)) == len(paths) and all(p.parent == tmp_path for p in paths)
