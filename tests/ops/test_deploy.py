"""deploy/: the compose file, the worker image and the systemd unit hold together.

Docker Compose itself is not run here (CI has no compose); what can be checked without
it is: the YAML parses, every worker is health-checked through /healthz, no secret is
written down, the shipped steward.yaml passes Steward's own validation, and the unit
passes `systemd-analyze verify` where systemd's tools exist.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from agent.settings import load_settings
from tests.conftest import PROJECT

DEPLOY = Path(PROJECT) / "deploy"


def _compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_runs_postgres_chroma_and_health_checked_workers() -> None:
    compose = _compose()
    services = compose["services"]
    assert {"postgres", "chroma", "migrate", "worker"} <= set(services)
    worker = services["worker"]
    assert worker["deploy"]["replicas"] == 3
    assert worker["command"] == ["run", "--http", "0.0.0.0:9464"]
    assert "/healthz" in " ".join(worker["healthcheck"]["test"])
    assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert worker["depends_on"]["postgres"]["condition"] == "service_healthy"
    env = worker["environment"]
    assert env["STEWARD__VECTOR_STORE__URL"] == "http://chroma:8000"
    assert "${POSTGRES_PASSWORD:?" in env["STEWARD__DATABASE__URL"]
    assert worker["env_file"] == ".env"
    assert all(p.startswith("127.0.0.1:") for p in worker["ports"]), "metrics on loopback only"


def test_no_secret_is_written_in_the_deployment_files() -> None:
    text = (DEPLOY / "compose.yaml").read_text() + (DEPLOY / "steward.yaml").read_text()
    for line in text.splitlines():
        if re.search(r"(PASSWORD|API_KEY|TOKEN|WEBHOOK_URL)\s*[:=]\s*\S", line):
            assert "${" in line, f"a secret written down: {line.strip()}"
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    assert "deploy/.env" in ignored and ".git" in ignored


def test_the_shipped_settings_pass_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(DEPLOY / "steward.yaml")
    assert settings.snapshot.spaces and settings.voting.enabled is False


def test_the_image_runs_the_worker_with_its_http_endpoints() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert 'CMD ["run", "--http", "0.0.0.0:9464"]' in dockerfile
    assert "/healthz" in dockerfile and "USER steward" in dockerfile


def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    unit = (DEPLOY / "steward@.service").read_text()
    assert "EnvironmentFile=/etc/steward/steward.env" in unit
    assert "Restart=on-failure" in unit and "--http 127.0.0.1:%i" in unit
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    # The unit names the installed binary; verify the rest of it against one that exists.
    (tmp_path / "steward@.service").write_text(
        unit.replace("/opt/steward/.venv/bin/steward", shutil.which("true") or "/bin/true")
    )
    done = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "steward@9464.service")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
