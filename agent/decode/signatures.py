"""Function signatures: parsed, checked, and hashed to their 4-byte selectors.

The same parser reads three kinds of text: the known ABIs (with parameter names),
the bundled selector table (types only) and a Bravo action's `signature` string,
which is untrusted and so is length-capped and must parse into types eth_abi knows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from eth_abi.grammar import ABIType, normalize
from eth_utils import keccak

from agent.decode.models import FunctionSource
from agent.decode.values import parse_type

MAX_SIGNATURE = 512
_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


@dataclass(frozen=True)
class Function:
    """A callable function: name, typed (and maybe named) parameters, what it means."""

    name: str
    params: tuple[tuple[str, ABIType], ...]
    kind: str | None = None
    """What the function does (`erc20.transfer`), for the handlers; None: only its name."""
    source: FunctionSource = "table"
    selector: bytes = field(default=b"", compare=False)

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(t.to_type_str() for _, t in self.params)})"

    @property
    def types(self) -> list[ABIType]:
        return [t for _, t in self.params]


def _split_top_level(text: str) -> list[str] | None:
    """Split on commas outside parentheses; None if the parentheses do not balance."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return None
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth:
        return None
    parts.append(text[start:])
    return parts


def _param(text: str, index: int) -> tuple[str, ABIType] | None:
    text = text.strip()
    closing = text.rfind(")")
    head, _, name = text.rpartition(" ") if " " in text[closing + 1 :] else (text, "", "")
    if name and not _NAME.fullmatch(name):
        return None
    try:
        abi_type = parse_type(normalize(head.strip()))
    except (ValueError, TypeError):
        return None
    return (name or f"arg{index}", abi_type) if abi_type is not None else None


def parse_signature(
    text: str, kind: str | None = None, source: FunctionSource = "table"
) -> Function | None:
    """`transfer(address to, uint256 amount)` → Function; None for anything malformed."""
    if len(text) > MAX_SIGNATURE or not text.endswith(")") or "(" not in text:
        return None
    name, _, rest = text.partition("(")
    if not _NAME.fullmatch(name):
        return None
    inner = rest[:-1]
    parts = _split_top_level(inner) if inner.strip() else []
    if parts is None:
        return None
    params = [_param(part, i) for i, part in enumerate(parts)]
    if any(p is None for p in params):
        return None
    checked = tuple(p for p in params if p is not None)
    unnamed = Function(name=name, params=checked, kind=kind, source=source)
    return Function(
        name=name,
        params=checked,
        kind=kind,
        source=source,
        selector=keccak(text=unnamed.signature)[:4],
    )


def selector_of(signature: str) -> bytes:
    """What the EVM calls for a Bravo signature: keccak of the exact text, first 4 bytes."""
    return keccak(text=signature)[:4]
