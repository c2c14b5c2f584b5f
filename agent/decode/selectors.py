"""Selector → function: the known ABIs first (names and meaning), then the bundled tables.

`data/effects.json` lists signatures by what they do; `data/selectors.json` lists
more signatures that are only named. Both hold text only: selectors are computed here
at first use, so a typo in a file can only fail to match, never mislabel a call.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from agent.decode.abis import KNOWN_FUNCTIONS
from agent.decode.effects import EFFECTS
from agent.decode.protocols import PROTOCOL_FUNCTIONS
from agent.decode.signatures import Function, parse_signature


def _data(name: str) -> dict[str, Any]:
    text = resources.files("agent.decode").joinpath(f"data/{name}").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def table_signatures() -> list[str]:
    """Every signature in the bundled tables, in file order, without repeats."""
    groups = [v for name in ("effects.json", "selectors.json") for k, v in _data(name).items()]
    return list(dict.fromkeys(sig for group in groups if isinstance(group, list) for sig in group))


def effect_table() -> dict[str, str]:
    """Signature → effect, from `data/effects.json`; an unknown effect name is a bug."""
    table: dict[str, str] = {}
    for effect, signatures in _data("effects.json").items():
        if effect.startswith("_"):
            continue
        if effect not in EFFECTS:
            raise ValueError(f"effects.json: {effect!r} is not an effect")
        for text in signatures:
            table.setdefault(text, effect)
    return table


@cache
def known_functions() -> dict[bytes, Function]:
    """Known ABIs by selector; two entries under one selector would be a bug in abis.py."""
    table: dict[bytes, Function] = {}
    for kind, text in (*KNOWN_FUNCTIONS, *PROTOCOL_FUNCTIONS):
        fn = parse_signature(text, kind=kind, source="abi")
        if fn is None or fn.selector in table:
            raise ValueError(f"bad or repeated known ABI entry: {text}")
        table[fn.selector] = fn
    return table


@cache
def _table() -> dict[bytes, Function]:
    effects = effect_table()
    table: dict[bytes, Function] = {}
    for text in table_signatures():
        effect = effects.get(text)
        fn = parse_signature(text, kind=f"effect.{effect}" if effect else None)
        if fn is not None:
            table.setdefault(fn.selector, fn)
    return table


def lookup(selector: bytes) -> Function | None:
    """The function a selector calls: a known ABI if there is one, else the tables'."""
    return known_functions().get(selector) or _table().get(selector)
