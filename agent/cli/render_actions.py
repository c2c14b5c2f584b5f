"""Decoded on-chain actions as a rich tree: what runs, with what, and what to look at.

Pure: stored `Proposal.extra` in, a renderable out. Every string here may come from
calldata, so it is put in `Text` objects (never parsed as rich markup).
"""

from __future__ import annotations

import json

from rich.console import RenderableType
from rich.panel import Panel
from rich.text import Text
from rich.tree import Tree

from agent.decode.models import ActionFlag, DecodedAction, DecodedArg
from agent.decode.stored import all_flags, stored_actions
from agent.models import ProposalExtra

SEVERITY_STYLE = {"high": "bold red", "warn": "yellow", "info": "dim"}
_MARK = {"high": "‼", "warn": "!", "info": "·"}
MAX_ARGS_SHOWN = 12
MAX_VALUE_CHARS = 160


def actions_view(extra: ProposalExtra) -> RenderableType | None:
    """The decoded actions of `extra`, or None if there are none to show."""
    if not extra.actions:
        return None
    actions = stored_actions(extra)
    if not actions:
        return Text("decoded actions are stored in a shape this version cannot read", "dim")
    tree = Tree(_heading(actions))
    for position, action in enumerate(actions, 1):
        _add_action(tree, action, str(position))
    return Panel(tree, title="On-chain actions", title_align="left")


def _heading(actions: list[DecodedAction]) -> Text:
    flags = all_flags(actions)
    counts = [(s, sum(f.severity == s for f in flags)) for s in ("high", "warn")]
    heading = Text(f"{len(actions)} action(s)")
    for severity, count in counts:
        if count:
            heading.append(f" · {count} {severity}", SEVERITY_STYLE[severity])
    return heading


def _add_action(parent: Tree, action: DecodedAction, path: str) -> None:
    node = parent.add(Text(f"{path}. {action.summary}", style=_label_style(action.flags)))
    node.add(_meta(action))
    for arg in action.args[:MAX_ARGS_SHOWN]:
        node.add(_arg(arg))
    if len(action.args) > MAX_ARGS_SHOWN:
        node.add(Text(f"… {len(action.args) - MAX_ARGS_SHOWN} more argument(s)", "dim"))
    if action.raw:
        node.add(Text(f"raw {action.raw}", "dim"))
    for flag in action.flags:
        node.add(_flag(flag, action.summary))
    for position, inner in enumerate(action.inner, 1):
        _add_action(node, inner, f"{path}.{position}")


def _label_style(flags: list[ActionFlag]) -> str:
    """An action's line takes the colour of its worst flag."""
    for severity, style in (("high", "bold red"), ("warn", "bold yellow")):
        if any(f.severity == severity for f in flags):
            return style
    return "bold"


def _meta(action: DecodedAction) -> Text:
    target = f"{action.target_name} {action.target}" if action.target_name else action.target
    parts = [f"target {target}", action.function or (action.selector or "no calldata")]
    if action.effect and action.effect != "none":
        parts.append(action.effect.replace("_", " "))
    if action.value_wei != "0":
        parts.append(f"value {action.value_eth} ETH")
    if action.delegatecall:
        parts.append("DELEGATECALL")
    if action.chain:
        parts.append(f"on {action.chain}")
    return Text(" · ".join(parts), "dim")


def _arg(arg: DecodedArg) -> Text:
    value = arg.value if isinstance(arg.value, str) else json.dumps(arg.value, ensure_ascii=False)
    if len(value) > MAX_VALUE_CHARS:
        value = value[: MAX_VALUE_CHARS - 1] + "…"
    line = Text(f"{arg.name} ({arg.type}) = ")
    line.append(value, "cyan")
    if arg.label:
        line.append(f"  {arg.label}", "green")
    return line


def _flag(flag: ActionFlag, summary: str) -> Text:
    """`‼ upgrade (high)`, with the detail unless it only repeats the summary."""
    detail = "" if flag.detail == summary else f": {flag.detail}"
    return Text(
        f"{_MARK[flag.severity]} {flag.kind} ({flag.severity}){detail}",
        SEVERITY_STYLE[flag.severity],
    )
