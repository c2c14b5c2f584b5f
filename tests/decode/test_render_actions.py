"""`steward show` prints decoded actions: summaries, args, nesting, high flags in red."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.text import Text
from rich.tree import Tree
from typer.testing import CliRunner

from agent.cli.main import app
from agent.cli.render_actions import actions_view
from agent.decode import RawAction, actions_extra, decode_actions
from agent.models import Proposal, ProposalExtra
from agent.store import RecordStore
from tests.decode.calldata import ALICE, KNOWN, STRANGER, TIMELOCK, USDC, call, oz

SCHEDULE = "schedule(address,uint256,bytes,bytes32,bytes32,uint256)"


def _extra() -> ProposalExtra:
    inner = call("transfer(address,uint256)", ALICE, 250_000 * 10**6)
    actions = [
        oz(TIMELOCK, SCHEDULE, USDC, 0, inner, bytes(32), bytes(32), 86_400),
        oz(STRANGER, "upgradeTo(address)", ALICE),
        RawAction(
            target=STRANGER,
            value=0,
            signature="setText(bytes32,string,string)",
            calldata="0x"
            + call("setText(bytes32,string,string)", bytes(32), "k", "[red]x[/]")[4:].hex(),
        ),
    ]
    return ProposalExtra(**json.loads(json.dumps(actions_extra(decode_actions(actions, KNOWN)))))


def _text(renderable) -> str:
    console = Console(record=True, width=140, color_system=None)
    console.print(renderable)
    return console.export_text()


def test_the_view_shows_summaries_args_nesting_and_flags() -> None:
    out = _text(actions_view(_extra()))
    assert "3 action(s) · 1 high · 3 warn" in out
    assert "1. Schedule on Timelock after 1 day: Transfer 250,000 USDC" in out
    assert "1.1. Transfer 250,000 USDC from Timelock" in out
    assert "amount (uint256) = 250000000000  250,000 USDC" in out
    assert "‼ upgrade (high)" in out and "! treasury_outflow (warn)" in out
    assert "value (string) = [red]x[/]" in out  # calldata is never read as markup


def test_high_flags_are_red() -> None:
    view = actions_view(_extra())
    texts = _texts(view.renderable)
    upgrade = [t for t in texts if t.plain.startswith("‼ upgrade (high)")]
    assert upgrade and all(str(t.style) == "bold red" for t in upgrade)
    action = next(t for t in texts if t.plain.startswith("2. Upgrade"))
    assert str(action.style) == "bold red"


def _texts(tree: Tree) -> list[Text]:
    found = [tree.label] if isinstance(tree.label, Text) else []
    for child in tree.children:
        found += _texts(child)
    return found


def test_nothing_to_show_and_unknown_shapes() -> None:
    assert actions_view(ProposalExtra()) is None and actions_view(ProposalExtra(actions=[])) is None
    odd = actions_view(ProposalExtra(actions=["free text"]))
    assert "cannot read" in _text(odd)


def test_steward_show_prints_the_actions(steward_home: Path) -> None:
    store = RecordStore(f"sqlite:///{steward_home / 'steward.db'}")
    proposal = Proposal(
        source="chain",
        space="gov",
        id="1:0xgov:7",
        title="Upgrade the box",
        body="Please upgrade.",
        state="active",
        extra=_extra(),
    )
    store.apply_proposals([proposal])
    store.close()
    result = CliRunner().invoke(app, ["show", "chain:1:0xgov:7"])
    assert result.exit_code == 0, result.output
    assert "On-chain actions" in result.stdout and "upgrade (high)" in result.stdout
    shown = json.loads(CliRunner().invoke(app, ["show", "chain:1:0xgov:7", "--json"]).stdout)
    assert shown["proposal"]["extra"]["actions"][1]["flags"][0]["kind"] == "upgrade"
