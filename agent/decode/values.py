"""Turning untrusted calldata into values a person can read and JSON can hold.

Calldata is written by whoever made the proposal: it can be truncated, garbage, or
crafted to make a decoder allocate a lot. Every function here is bounded and
raises nothing but the `DecodeFailure` the caller turns into an `undecodable` flag.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal, localcontext
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError, ParseError
from eth_abi.grammar import ABIType, TupleType, parse
from eth_utils import to_checksum_address
from pydantic import JsonValue

MAX_CALLDATA = 2 * 1024 * 1024
"""Bytes of calldata decoded at most; a longer one is named but its args are not decoded."""
MAX_NESTED_ARRAY_CALLDATA = 4 * 1024
"""Arrays of arrays let a few pointers fan out into millions of items: a smaller cap."""
MAX_BYTES_SHOWN = 512
MAX_TEXT_SHOWN = 500
MAX_ITEMS_SHOWN = 50
MAX_RAW_SHOWN = 256
"""Bytes of undecodable calldata kept (as hex) for a person to look at."""
UINT256_MAX = 2**256 - 1

_STRING = re.compile(r"\bstring\b")
_BASES = frozenset({"address", "bool", "string", "bytes", "uint", "int", "fixed", "ufixed"})
_HIDDEN = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})


class DecodeFailure(Exception):
    """The arguments do not decode; the message says why, for a person."""


def clean_text(text: str, limit: int = MAX_TEXT_SHOWN, *, mark: bool = False) -> str:
    """Control, bidi and zero-width characters removed (or shown as <U+XXXX>), then cut."""
    out: list[str] = []
    for char in text[: limit * 2]:
        if unicodedata.category(char) in _HIDDEN:
            if mark:
                out.append(f"<U+{ord(char):04X}>")
            elif char in "\n\t":
                out.append(" ")
        else:
            out.append(char)
    joined = "".join(out)
    return joined if len(joined) <= limit else joined[: limit - 1] + "…"


def checksum(address: str) -> str | None:
    """The EIP-55 form of a 20-byte hex address, or None if it is not one."""
    if not re.fullmatch(r"0x[0-9a-fA-F]{40}", address):
        return None
    return to_checksum_address(address)


def short(hex_text: str) -> str:
    """`0xAbCd…1234`: enough for a person to match, short enough for a summary."""
    if hex_text.startswith("0x") and len(hex_text) > 14:
        return f"{hex_text[:6]}…{hex_text[-4:]}"
    return clean_text(hex_text, 20)


def hex_bytes(data: bytes, limit: int = MAX_BYTES_SHOWN) -> str:
    """0x-hex, cut after `limit` bytes with a `…` so a reader sees it was cut."""
    return "0x" + data[:limit].hex() + ("…" if len(data) > limit else "")


def parse_hex(text: str, limit: int) -> bytes | None:
    """Bytes of a 0x-hex string of at most `limit` bytes; None if it is not hex."""
    body = text[2:] if text[:2] in ("0x", "0X") else text
    if len(body) > 2 * limit or len(body) % 2:
        return None
    try:
        return bytes.fromhex(body)
    except ValueError:
        return None


def human_amount(raw: int, decimals: int) -> Decimal:
    """Exact human units (no float, no rounding to 28 digits)."""
    with localcontext(prec=200):
        return Decimal(raw).scaleb(-decimals).normalize()


def plain(amount: Decimal) -> str:
    """`250000.5`: for machines (hard rules, JSON)."""
    with localcontext(prec=200):
        return f"{amount:f}"


def grouped(amount: Decimal) -> str:
    """`250,000.5`: for people."""
    with localcontext(prec=200):
        return f"{amount:,f}"


def duration(seconds: int) -> str:
    """`2 days 3 h`, `45 min`, `30 s`: two units at most."""
    if seconds < 0 or seconds > 10**12:
        return f"{seconds} s"
    parts: list[str] = []
    for unit, size in (("day", 86_400), ("h", 3_600), ("min", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            plural = "s" if unit == "day" and count != 1 else ""
            parts.append(f"{count} {unit}{plural}")
    return " ".join(parts[:2]) or "0 s"


def utc_time(timestamp: int) -> str:
    """A unix timestamp as a UTC date; absurd values stay numbers."""
    try:
        return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    except (OverflowError, OSError, ValueError):
        return f"timestamp {timestamp}"


def parse_type(type_str: str) -> ABIType | None:
    """The ABI type of a type string, or None for anything eth_abi would not decode."""
    if len(type_str) > 256:
        return None
    try:
        parsed = parse(type_str)
        parsed.validate()
    except (ParseError, ValueError, TypeError):
        return None
    return parsed if _known_bases(parsed) else None


def _known_bases(abi_type: ABIType) -> bool:
    if isinstance(abi_type, TupleType):
        return bool(abi_type.components) and all(_known_bases(c) for c in abi_type.components)
    return getattr(abi_type, "base", None) in _BASES


def _array_depth(abi_type: ABIType) -> int:
    own = len(abi_type.arrlist or ())
    if isinstance(abi_type, TupleType):
        return own + max((_array_depth(c) for c in abi_type.components), default=0)
    return own


def decode_args(types: Sequence[ABIType], data: bytes) -> tuple[Any, ...]:
    """ABI-decode `data` (selector already removed); strings come back as raw bytes."""
    depth = max((_array_depth(t) for t in types), default=0)
    cap = MAX_NESTED_ARRAY_CALLDATA if depth > 1 else MAX_CALLDATA
    if len(data) > cap:
        raise DecodeFailure(f"{len(data):,} bytes of arguments, over the {cap:,}-byte cap")
    as_bytes = [_STRING.sub("bytes", t.to_type_str()) for t in types]
    try:
        return tuple(abi_decode(as_bytes, data))
    except (DecodingError, ValueError, OverflowError, TypeError, IndexError) as exc:
        raise DecodeFailure(f"arguments do not decode: {clean_text(str(exc), 160)}") from None


def to_json(value: Any, abi_type: ABIType) -> JsonValue:
    """A decoded value as JSON: ints as strings, bytes as hex, addresses checksummed."""
    if abi_type.is_array:
        items = list(value)
        shown: list[JsonValue] = [to_json(v, abi_type.item_type) for v in items[:MAX_ITEMS_SHOWN]]
        if len(items) > MAX_ITEMS_SHOWN:
            shown.append(f"… {len(items) - MAX_ITEMS_SHOWN} more")
        return shown
    if isinstance(abi_type, TupleType):
        return [to_json(v, t) for v, t in zip(value, abi_type.components, strict=False)]
    base = getattr(abi_type, "base", "")
    if base == "address":
        return to_checksum_address(value)
    if base == "bool":
        return bool(value)
    if base == "string":
        return clean_text(bytes(value).decode("utf-8", "replace"), mark=True)
    if isinstance(value, bytes):
        return hex_bytes(value)
    return str(value)
