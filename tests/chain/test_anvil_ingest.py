"""Governor ingestion from a real JSON-RPC node: anvil on 127.0.0.1, behind a proxy that
behaves like a hosted provider (a 500-block eth_getLogs cap, 429s, 5xx, garbage, bad logs).

Everything goes over HTTP through `steward ingest --chain` and `ChainRpc.connect`, the
path a user's configuration takes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner
from web3 import Web3

from agent.cli.main import app as cli
from agent.errors import MalformedResponse
from agent.ingest import IngestFailed, ingest
from agent.settings import ChainSettings
from agent.store import RecordStore
from connectors.chain.rpc import ChainRpc
from connectors.chain.source import ChainSource
from tests.chain import evm
from tests.chain.anvil import reorg
from tests.chain.deploy import OzDeployment
from tests.chain.lifecycle import lifecycle
from tests.chain.scenario import Support, vote
from tests.fakes.capped_rpc import CappedRPC

CAP = 500


@pytest.fixture
def provider(anvil_node: Any) -> Iterator[CappedRPC]:
    with CappedRPC(anvil_node.url, max_block_range=CAP, style="alchemy") as proxy:
        yield proxy


def _settings(dep: OzDeployment, url: str, **over: Any) -> ChainSettings:
    fields: dict[str, Any] = {
        "name": "anvil",
        "rpc_url": url,
        "chain_id": 31337,
        "confirmations": 0,
        "max_block_range": 4096,
        "backoff_max_s": 0.05,
        "governors": [
            {
                "name": "anvil-gov",
                "address": dep.governor.address,
                "kind": "oz",
                "start_block": dep.start_block,
            }
        ],
        "contracts": [
            {
                "address": dep.assets.usdc.address,
                "name": "USDC",
                "kind": "token",
                "symbol": "USDC",
                "decimals": 6,
            },
            {"address": dep.timelock.address, "name": "DAO timelock", "kind": "timelock"},
        ],
    }
    fields.update(over)
    return ChainSettings(**fields)


def _source(dep: OzDeployment, url: str, **over: Any) -> ChainSource:
    cfg = _settings(dep, url, **over)
    rpc = ChainRpc.connect(url, label="chain anvil", timeout=2, backoff_max=0.05)
    return ChainSource(rpc, cfg)


def _uid(dep: OzDeployment, pid: int) -> str:
    return f"chain:31337:{dep.governor.address.lower()}:{pid}"


def test_ingest_over_http_with_a_capped_provider_and_a_reorg(
    anvil_oz: OzDeployment, provider: CappedRPC, tmp_path: Path
) -> None:
    w3 = anvil_oz.w3
    evm.mine(w3, 1200)  # more blocks than one capped window
    expected = lifecycle(anvil_oz)
    store = RecordStore(f"sqlite:///{tmp_path / 'anvil.db'}")
    source = _source(anvil_oz, provider.url)

    counts = ingest(source, store)
    assert counts.new == 6 and counts.votes == 12
    assert provider.rejected["range"] >= 1  # the 4096-block window was refused …
    assert provider.rejected["range"] <= 4  # … a few times, then it kept to what works
    assert all(t - f + 1 <= CAP for f, t in provider.log_ranges[-3:])
    active = expected["active"]
    uid = _uid(anvil_oz, active.proposal_id)
    stored = store.get(uid)
    assert stored is not None and stored.proposal.state == "active"

    # A vote lands, is ingested, then a reorg replaces its block with one that has none.
    late = next(v for v in anvil_oz.voters if v not in {c.voter for c in active.votes})
    vote(anvil_oz, active.proposal_id, late, Support.AGAINST, "soon reorged away")
    ingest(source, store)
    assert late in {v.voter for v in store.votes(uid)}
    reorg(w3, 1)
    evm.mine(w3, 2)
    again = ingest(source, store)
    assert again.reorgs == 1 and again.votes_rewound >= 1
    assert late not in {v.voter for v in store.votes(uid)}
    refreshed = store.get(uid)
    assert refreshed is not None and refreshed.proposal.votes_count == len(active.votes)
    store.close()


def test_flaky_provider_answers_are_retried_and_bad_logs_refused(
    anvil_oz: OzDeployment, provider: CappedRPC, tmp_path: Path
) -> None:
    lifecycle(anvil_oz)
    store = RecordStore(f"sqlite:///{tmp_path / 'flaky.db'}")
    for kind in ("429", "500", "garbage", "timeout"):
        provider.fail_next(kind)  # type: ignore[arg-type]
    provider.hang_seconds = 2.5  # over the 2 s client timeout
    counts = ingest(_source(anvil_oz, provider.url), store)
    assert counts.new == 6
    provider.fail_next("log_bad_data", times=2)  # a provider that keeps sending it
    other = RecordStore(f"sqlite:///{tmp_path / 'bad.db'}")
    with pytest.raises(IngestFailed) as info:
        ingest(_source(anvil_oz, provider.url), other)
    assert isinstance(info.value.__cause__, MalformedResponse)
    assert "transaction 0x" in str(info.value)
    store.close()
    other.close()


def test_steward_ingest_chain_from_a_config_file(
    anvil_oz: OzDeployment, provider: CappedRPC, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lifecycle(anvil_oz)
    cfg = _settings(anvil_oz, provider.url).model_dump(mode="json", exclude={"rpc_url"})
    cfg["rpc_url_env"] = "ANVIL_RPC_URL"
    monkeypatch.setenv("ANVIL_RPC_URL", provider.url)
    config = tmp_path / "steward.yaml"
    config.write_text(yaml.safe_dump({"chains": [cfg]}), encoding="utf-8")
    monkeypatch.setenv("STEWARD_HOME", str(tmp_path / "home"))
    runner = CliRunner()
    result = runner.invoke(
        cli, ["--config", str(config), "ingest", "--chain", "anvil", "--no-index", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert '"new": 6' in result.output
    uid = _uid(anvil_oz, lifecycle_transfer_id(anvil_oz))
    shown = runner.invoke(cli, ["--config", str(config), "show", uid])
    assert shown.exit_code == 0, shown.output
    assert "250,000 USDC" in shown.output and "treasury_outflow" in shown.output
    assert provider.url not in result.output + shown.output


def lifecycle_transfer_id(dep: OzDeployment) -> int:
    """The executed transfer's id, read back from the chain's ProposalCreated events."""
    events = dep.governor.events.ProposalCreated().get_logs(from_block=dep.start_block)
    for e in events:
        if e["args"]["description"].startswith("# Fund the Meta-Governance"):
            return int(e["args"]["proposalId"])
    raise AssertionError("no transfer proposal")


def test_chain_ids_must_match(anvil_oz: OzDeployment, provider: CappedRPC, tmp_path: Path) -> None:
    store = RecordStore(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(IngestFailed, match="chain id 31337"):
        ingest(_source(anvil_oz, provider.url, chain_id=1), store)
    store.close()


_ = Web3  # typing only
