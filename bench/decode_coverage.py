"""How much of what real proposals execute Steward names, opens and flags.

Decodes every action of the shared real Governor data (`governor-proposals.jsonl`:
Compound, Uniswap, Aave; `governor-proposal-calldata.jsonl`: ENS and others) with
no user configuration and no chain (only what Steward bundles), and reports:

- the share of actions named (top level and every nested call), the share whose
  arguments all decoded, the containers opened (calls that carry calls);
- flags by kind and severity;
- a reference check that does not trust the decoder's flags: every call whose
  function *name* says it moves money or upgrades code (a list kept here, by name
  only) must carry a money or upgrade flag;
- what is still not named, by selector or signature, most frequent first.

    .venv/bin/python bench/decode_coverage.py [--data DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.decode import DecodedAction, RawAction, decode_actions

DATA = Path("/work/shared/data")
OUT = Path(__file__).parent / "results" / "decode_coverage.json"

MONEY_NAMES = frozenset(
    {
        "transfer",
        "transferFrom",
        "safeTransferFrom",
        "approve",
        "increaseAllowance",
        "_reduceReserves",
        "_grantComp",
        "createStream",
        "setFlowrate",
        "createFlow",
        "updateFlow",
        "release",
        "releaseETH",
        "recoverFunds",
        "sweepToken",
        "_sweep",
    }
)
"""Functions whose name alone says tokens or ether leave the caller (or may be taken).
Not `withdraw`: it pulls funds *to* the caller."""
UPGRADE_NAMES = frozenset(
    {
        "upgradeTo",
        "upgradeToAndCall",
        "upgrade",
        "upgradeAndCall",
        "_setImplementation",
        "_setPendingImplementation",
        "_become",
        "deployAndUpgradeTo",
        "setImplementation",
    }
)
"""Upgrade names count when the function takes an address (the code): Superfluid's
`upgrade(uint256)` wraps tokens."""
MONEY_FLAGS = frozenset({"treasury_outflow", "stream", "eth_value"})


@dataclass(frozen=True)
class Sample:
    """One real proposal: where it comes from and its raw actions."""

    key: str
    dao: str
    actions: list[RawAction]


def _hex_list(text: str | list[str]) -> list[str]:
    """`calldatas_hex` is a Python list's repr in governor-proposals.jsonl."""
    return list(ast.literal_eval(text)) if isinstance(text, str) else list(text)


def _delegate(flag: bool) -> dict[str, bool]:
    """Older decoders (the "before" figures) had no delegatecall field."""
    return {"delegatecall": bool(flag)} if "delegatecall" in RawAction.model_fields else {}


def governor_sample(row: dict[str, Any]) -> Sample | None:
    """A `governor-proposals.jsonl` record (Bravo-style, Aave with delegatecalls)."""
    targets = row.get("targets") or []
    if not targets:
        return None
    calldatas = _hex_list(row["calldatas_hex"])
    delegate = row.get("with_delegatecalls") or [False] * len(targets)
    values = row.get("values") or [0] * len(targets)
    actions = [
        RawAction(target=t, value=int(v), signature=s, calldata=c, **_delegate(d))
        for t, v, s, c, d in zip(
            targets, values, row["signatures"], calldatas, delegate, strict=True
        )
    ]
    return Sample(f"{row['dao']}#{row['proposal_id']}", row["dao"], actions)


def calldata_sample(row: dict[str, Any]) -> Sample:
    """A `governor-proposal-calldata.jsonl` record (OpenZeppelin-style calls)."""
    calls = row["calldata"].get("executableCalls") or []
    actions = [
        RawAction(target=c["target"], value=int(c.get("value") or 0), calldata=c["calldata"])
        for c in calls
    ]
    return Sample(f"{row['dao']}:{row['folder']}", row["dao"], actions)


def sample_of(row: dict[str, Any]) -> Sample | None:
    """Either file's record as a sample; None for a proposal with no actions."""
    if row.get("record_type") == "governor_proposal_calldata":
        return calldata_sample(row)
    return governor_sample(row)


def load(data: Path) -> list[Sample]:
    rows = [
        json.loads(line)
        for name in ("governor-proposals.jsonl", "governor-proposal-calldata.jsonl")
        for line in (data / name).read_text().splitlines()
    ]
    return [s for s in map(sample_of, rows) if s is not None]


def _name(action: DecodedAction) -> str | None:
    return action.function.split("(")[0] if action.function else None


def _fully_decoded(action: DecodedAction) -> bool:
    return action.function is not None and not any(f.kind == "undecodable" for f in action.flags)


def _unnamed_key(action: DecodedAction, raw_signature: str) -> str:
    if raw_signature:
        return raw_signature
    return action.selector or ("plain ether" if action.value_wei != "0" else "empty call")


def _is_bare(action: DecodedAction) -> bool:
    """No calldata at all: a plain ether transfer or a bare call is named by what it is."""
    return (
        action.selector is None
        and action.function is None
        and "undecodable" not in {f.kind for f in action.flags}
    )


def _share(part: int, whole: int) -> float:
    return round(100 * part / whole, 2) if whole else 0.0


def measure(samples: Iterable[Sample]) -> dict[str, Any]:
    top = nested = named_top = named_all = full_top = full_all = 0
    containers: Counter[str] = Counter()
    flags: Counter[str] = Counter()
    unnamed: Counter[str] = Counter()
    money = upgrade = money_flagged = upgrade_flagged = 0
    missed: Counter[str] = Counter()
    delegatecalls = chains = targets_named = money_flags = money_in_units = 0
    by_dao: dict[str, Counter[str]] = {}
    started = time.perf_counter()
    for sample in samples:
        dao = by_dao.setdefault(sample.dao, Counter())
        decoded = decode_actions(sample.actions)
        for raw, action in zip(sample.actions, decoded, strict=False):
            top += 1
            named_top += action.function is not None or _is_bare(action)
            full_top += _fully_decoded(action) or _is_bare(action)
            for node in action.walk():
                nested += node is not action
                named_all += node.function is not None or _is_bare(node)
                dao["calls"] += 1
                dao["named"] += node.function is not None or _is_bare(node)
                full_all += _fully_decoded(node) or _is_bare(node)
                if node.function is None and not _is_bare(node):
                    key = _unnamed_key(node, raw.signature if node is action else "")
                    unnamed[f"{sample.dao}: {key}"] += 1
                if node.inner:
                    containers[node.function or "?"] += 1
                delegatecalls += bool(getattr(node, "delegatecall", False))
                chains += bool(getattr(node, "chain", None))
                targets_named += node.target_name is not None
                kinds = {f.kind for f in node.flags}
                for f in node.flags:
                    if f.kind in MONEY_FLAGS:
                        money_flags += 1
                        money_in_units += f.amount is not None or f.unlimited
                for f in node.flags:
                    flags[f"{f.kind}:{f.severity}"] += 1
                name = _name(node)
                if name in MONEY_NAMES:
                    money += 1
                    hit = bool(kinds & MONEY_FLAGS)
                    money_flagged += hit
                    if not hit:
                        missed[f"money {node.function}"] += 1
                if name in UPGRADE_NAMES and "address" in (node.function or ""):
                    upgrade += 1
                    upgrade_flagged += "upgrade" in kinds
                    if "upgrade" not in kinds:
                        missed[f"upgrade {node.function}"] += 1
    total = top + nested
    return {
        "actions_top_level": top,
        "actions_nested": nested,
        "named_top_level_pct": _share(named_top, top),
        "named_all_pct": _share(named_all, total),
        "all_args_decoded_top_level_pct": _share(full_top, top),
        "all_args_decoded_all_pct": _share(full_all, total),
        "named_all_pct_by_dao": {
            name: _share(c["named"], c["calls"]) for name, c in sorted(by_dao.items())
        },
        "containers_opened": sum(containers.values()),
        "containers_by_function": dict(containers.most_common()),
        "delegatecalls_marked": delegatecalls,
        "cross_chain_calls_opened": chains,
        "targets_named_pct": _share(targets_named, total),
        "money_flags": money_flags,
        "money_flags_in_human_units_pct": _share(money_in_units, money_flags),
        "flags_by_kind": dict(sorted(flags.items())),
        "reference_money_moves": money,
        "reference_money_moves_flagged": money_flagged,
        "reference_upgrades": upgrade,
        "reference_upgrades_flagged": upgrade_flagged,
        "reference_missed": dict(missed.most_common()),
        "still_unnamed": dict(unnamed.most_common()),
        "seconds": round(time.perf_counter() - started, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--label", default="after", help="key to store the figures under")
    args = parser.parse_args(argv)
    samples = load(args.data)
    figures = {"proposals": len(samples), **measure(samples)}
    previous = json.loads(args.out.read_text()) if args.out.exists() else {}
    previous[args.label] = figures
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(previous, indent=2) + "\n")
    shown = {k: v for k, v in figures.items() if not isinstance(v, dict)}
    print(json.dumps(shown, indent=2))
    print("still unnamed:", json.dumps(dict(list(figures["still_unnamed"].items())[:25]), indent=1))
    print("reference missed:", json.dumps(figures["reference_missed"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
