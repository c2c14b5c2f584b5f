"""`steward ingest --chain` simulates what is due on a chain with `simulate: true`;
`steward simulate`, `steward show` and the digest show the report; the RPC URL never does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner
from web3 import Web3

from agent.cli.main import app as cli
from tests.chain.actions import transfer_token
from tests.chain.scenario import propose
from tests.simulate.conftest import Mainnet


def _json(output: str) -> dict[str, Any]:
    """The JSON document, after any progress line the runner mixed in from stderr."""
    data: dict[str, Any] = json.loads(
        output[output.index("\n{") + 1 :] if output[0] != "{" else output
    )
    return data


def test_ingest_simulates_and_the_cli_shows_it(
    mainnet: Mainnet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dep = mainnet.oz
    to = Web3.to_checksum_address("0x" + "42" * 20)
    pid = propose(dep, [transfer_token(dep.assets.usdc, to, 7 * 10**6, symbol="USDC")], "# CLI")
    chain = {
        "name": "mainnet",
        "rpc_url_env": "MAINNET_RPC_URL",
        "chain_id": 31337,
        "confirmations": 0,
        "governors": [
            {"name": "gov", "address": dep.governor.address, "start_block": dep.start_block}
        ],
        "simulate": True,
    }
    monkeypatch.setenv("MAINNET_RPC_URL", mainnet.node.url)
    monkeypatch.setenv("STEWARD_HOME", str(tmp_path / "home"))
    config = tmp_path / "steward.yaml"
    config.write_text(yaml.safe_dump({"chains": [chain]}), encoding="utf-8")
    run = CliRunner()
    base = ["--config", str(config)]
    uid = f"chain:31337:{dep.governor.address.lower()}:{pid}"

    ingested = run.invoke(cli, [*base, "ingest", "--chain", "mainnet", "--no-index", "--json"])
    assert ingested.exit_code == 0, ingested.output
    simulated = {s["uid"]: s for s in _json(ingested.output)["simulated"]}
    assert simulated[uid]["status"] == "simulated"

    again = run.invoke(cli, [*base, "simulate", uid, "--json"])
    assert again.exit_code == 0, again.output
    report = _json(again.output)
    assert report["method"] == "governor" and len(report["report_hash"]) == 64
    assert report["token_moves"][0]["amount"] == "7"
    assert set(report["timings"]) == {"fork_s", "execute_s", "report_s"}

    shown = run.invoke(cli, [*base, "show", uid])
    assert shown.exit_code == 0, shown.output
    assert "Simulation" in shown.output and "7 USDC" in shown.output

    digest = run.invoke(cli, [*base, "digest", "--since", "1w"])
    assert digest.exit_code == 0, digest.output
    assert (
        "🧪 simulated" in digest.output and f"7 USDC from {dep.timelock.address}" in digest.output
    )

    everything = ingested.output + again.output + shown.output + digest.output
    assert mainnet.node.url not in everything


def test_simulate_says_why_not_and_exits_1(tmp_path: Path) -> None:
    from agent.models import Proposal
    from agent.settings import load_settings
    from agent.store import RecordStore

    config = tmp_path / "steward.yaml"
    config.write_text(yaml.safe_dump({"home": str(tmp_path / "home")}), encoding="utf-8")
    store = RecordStore(load_settings(config).database_url)
    snapshot = Proposal(
        source="snapshot",
        space="x.eth",
        id="0xabc",
        title="t",
        body="b",
        choices=["for"],
        state="active",
    )
    store.apply_proposals([snapshot])
    store.close()
    result = CliRunner().invoke(cli, ["--config", str(config), "simulate", snapshot.uid])
    assert result.exit_code == 1
    assert "not simulated: only on-chain (Governor) proposals" in " ".join(result.output.split())
