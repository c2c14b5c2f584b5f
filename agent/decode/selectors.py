"""Selector → function: the known ABIs first (names and meaning), then the bundled table.

The table (`data/selectors.json`) lists signatures only; selectors are computed here
at first use, so a typo in the file can only fail to match, never mislabel a call.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from agent.decode.abis import KNOWN_FUNCTIONS
from agent.decode.signatures import Function, parse_signature


def table_signatures() -> list[str]:
    """Every signature in the bundled table, in file order, without repeats."""
    raw = json.loads(resources.files("agent.decode").joinpath("data/selectors.json").read_text())
    groups = [v for k, v in raw.items() if not k.startswith("_")]
    return list(dict.fromkeys(sig for group in groups for sig in group))


@cache
def known_functions() -> dict[bytes, Function]:
    """Known ABIs by selector; two entries under one selector would be a bug in abis.py."""
    table: dict[bytes, Function] = {}
    for kind, text in KNOWN_FUNCTIONS:
        fn = parse_signature(text, kind=kind, source="abi")
        if fn is None or fn.selector in table:
            raise ValueError(f"bad or repeated known ABI entry: {text}")
        table[fn.selector] = fn
    return table


@cache
def _table() -> dict[bytes, Function]:
    table: dict[bytes, Function] = {}
    for text in table_signatures():
        fn = parse_signature(text)
        if fn is not None:
            table.setdefault(fn.selector, fn)
    return table


def lookup(selector: bytes) -> Function | None:
    """The function a selector calls: a known ABI if there is one, else the table's."""
    return known_functions().get(selector) or _table().get(selector)
