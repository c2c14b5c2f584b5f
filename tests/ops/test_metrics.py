"""Metrics: what the runner, the ingest, the audit log and the connectors report, read
back through Prometheus' own text parser (as a scraper reads it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from agent.errors import StewardError
from agent.ingest import ingest
from agent.metrics import Metrics
from agent.observe import vote_reporter
from agent.runner.loop import Job, JobResult, Runner
from agent.settings import SnapshotSettings
from agent.store import RecordStore
from agent.voting.audit_log import AuditLog
from connectors.snapshot import HubClient, SnapshotSource
from tests.fakes.serve_hub import seed
from tests.fakes.snapshot_hub import FakeHub

API_KEY = "sk-hub-4f1c9e0d2b7a"


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the page as (name, sorted labels) → value."""
    page = metrics.render().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(page)
        for s in family.samples
    }


def value(metrics: Metrics, name: str, **labels: str) -> float | None:
    return samples(metrics).get((name, tuple(sorted(labels.items()))))


def test_a_hub_ingest_counts_requests_retries_and_lag_without_the_key(tmp_path: Path) -> None:
    metrics = Metrics()
    slept: list[float] = []
    with FakeHub(api_key=API_KEY) as hub:
        seed(hub, votes=2)
        hub.fail_next("500")
        client = HubClient(
            hub.url, api_key=API_KEY, max_retries=2, sleep=slept.append, observer=metrics
        )
        source = SnapshotSource(client, SnapshotSettings(hub_url=hub.url), ["yearn"])
        store = RecordStore(f"sqlite:///{tmp_path / 'steward.db'}")
        counts = ingest(source, store, on_synced=metrics.ingest_synced)
        store.close()
    assert counts.new == 45
    assert value(metrics, "steward_requests_total", target="snapshot_hub") == client.requests
    assert client.requests == len(hub.requests) and client.requests > 1
    assert value(metrics, "steward_request_retries_total", target="snapshot_hub") == 1
    lag = value(metrics, "steward_ingest_lag_seconds", source="snapshot", scope="yearn")
    assert lag is not None and lag >= 0
    assert API_KEY not in metrics.render().decode()
    assert hub.url not in metrics.render().decode()


def test_ingest_lag_is_measured_at_scrape_time() -> None:
    now = [1_000.0]
    metrics = Metrics(clock=lambda: now[0])
    metrics.ingest_synced("chain", "uniswap")
    now[0] += 90
    assert value(metrics, "steward_ingest_lag_seconds", source="chain", scope="uniswap") == 90
    synced = "steward_ingest_last_sync_timestamp_seconds"
    assert value(metrics, synced, source="chain", scope="uniswap") == 1_000
    metrics.ingest_synced("chain", "uniswap")
    assert value(metrics, "steward_ingest_lag_seconds", source="chain", scope="uniswap") == 0


def test_the_runner_counts_jobs_by_kind_and_outcome() -> None:
    metrics = Metrics()

    def broken() -> JobResult:
        raise StewardError("the hub is down")

    jobs = [
        Job("ingest", 60, JobResult),
        Job("post", 60, lambda: JobResult(errors=["one post failed"])),
        Job("vote", 60, broken),
    ]
    runner = Runner(jobs, observer=metrics)
    assert runner.run_once() is False
    assert runner.run_once() is False
    assert value(metrics, "steward_jobs_total", job="ingest", outcome="ok") == 2
    assert value(metrics, "steward_jobs_total", job="post", outcome="failed") == 2
    assert value(metrics, "steward_jobs_total", job="vote", outcome="failed") == 2
    assert value(metrics, "steward_jobs_total", job="vote", outcome="ok") == 0
    assert value(metrics, "steward_job_duration_seconds_count", job="vote") == 2


def test_votes_are_counted_from_what_the_audit_log_records(tmp_path: Path) -> None:
    metrics = Metrics()
    store = RecordStore(f"sqlite:///{tmp_path / 'steward.db'}")
    audit = AuditLog(store.engine, tmp_path / "audit.head", on_append=vote_reporter(metrics))
    audit.append("recommended", delegate="alice", proposal_uid="p1", data={"status": "scheduled"})
    audit.append("skipped", delegate="alice", proposal_uid="p2", data={"blockers": ["injection"]})
    audit.append(
        "skipped",
        delegate="alice",
        proposal_uid="p3",
        data={"blockers": ["low_confidence", "injection"]},
    )
    audit.append("skipped", delegate="alice", proposal_uid="p4", data={"why": "expired"})
    audit.append("cast", delegate="alice", proposal_uid="p1", data={})
    audit.append("confirmed", delegate="alice", proposal_uid="p1", data={})
    store.close()
    assert value(metrics, "steward_votes_refused_total", reason="injection") == 2
    assert value(metrics, "steward_votes_refused_total", reason="low_confidence") == 1
    assert value(metrics, "steward_votes_refused_total", reason="other") == 1
    assert value(metrics, "steward_votes_total", event="cast") == 1
    assert value(metrics, "steward_votes_total", event="confirmed") == 1
    assert value(metrics, "steward_votes_total", event="failed") is None


def test_each_service_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.posted(sent=3, failed=1)
    first.embedded(40)
    first.lease_takeover("ingest")
    first.rate_waited("snapshot_hub", 1.5)
    assert value(first, "steward_posts_total", outcome="sent") == 3
    assert value(first, "steward_posts_total", outcome="failed") == 1
    assert value(first, "steward_embeddings_total") == 40
    assert value(first, "steward_lease_takeovers_total", job="ingest") == 1
    assert value(first, "steward_rate_limit_wait_seconds_total", target="snapshot_hub") == 1.5
    assert value(second, "steward_posts_total", outcome="sent") is None
    assert value(second, "steward_embeddings_total") == 0


@pytest.mark.parametrize("bad", ["9464", "localhost", ":9464", "127.0.0.1:99999", "h:p"])
def test_a_bad_listen_address_is_refused_with_the_format(bad: str) -> None:
    from agent.settings import parse_listen

    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_listen(bad)
    assert parse_listen("[::1]:0") == ("::1", 0)
    assert parse_listen("127.0.0.1:9464") == ("127.0.0.1", 9464)


def test_rpc_requests_are_counted_under_the_chain_name() -> None:
    from web3 import EthereumTesterProvider, Web3

    from connectors.chain.rpc import ChainRpc

    metrics = Metrics()
    rpc = ChainRpc.from_web3(
        Web3(EthereumTesterProvider()), observer=metrics, target="rpc:localnet"
    )
    rpc.block_number()
    rpc.chain_id()
    assert value(metrics, "steward_requests_total", target="rpc:localnet") == rpc.requests == 2


def test_the_ingest_job_reports_embeddings_computed_and_lag(
    tmp_path: Path, embedder: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent.app import App
    from agent.runner.jobs import ingest_and_index
    from agent.settings import load_settings

    metrics = Metrics()
    with FakeHub() as hub:
        hub.add_space("ens.eth")
        hub.add_proposal("ens.eth", title="Fund the docs", body="Grants for documentation.")
        hub.add_proposal("ens.eth", title="Rotate signers", body="Replace two keyholders.")
        cfg = tmp_path / "config.yaml"
        cfg.write_text(f"snapshot:\n  hub_url: {hub.url}\n  spaces: [ens.eth]\n")
        app = App(load_settings(cfg), observer=metrics)
        monkeypatch.setattr(app, "embedder", lambda: embedder)  # the session's loaded model
        result = ingest_and_index(app, [app.snapshot_source()], index=True)
        again = ingest_and_index(app, [app.snapshot_source()], index=True)
        app.close()
    assert not result.errors and result.index is not None
    assert result.index.computed_embeddings > 0
    assert again.index is None, "nothing changed: nothing embedded the second time"
    embedded = value(metrics, "steward_embeddings_total")
    assert embedded == result.index.computed_embeddings
    assert (
        value(metrics, "steward_ingest_lag_seconds", source="snapshot", scope="ens.eth") is not None
    )


def test_run_http_in_the_config_is_validated_at_start_up(tmp_path: Path) -> None:
    from agent.errors import ConfigError
    from agent.settings import load_settings

    cfg = tmp_path / "config.yaml"
    cfg.write_text("run:\n  http: 127.0.0.1:9464\n")
    assert load_settings(cfg).run.http == "127.0.0.1:9464"
    cfg.write_text("run:\n  http: metrics-please\n")
    with pytest.raises(ConfigError, match=r"run\.http"):
        load_settings(cfg)
