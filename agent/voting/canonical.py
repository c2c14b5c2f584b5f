"""One canonical JSON form, so a hash computed today is recomputed identically later."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 as is; NaN/Infinity refused (not JSON)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def json_safe(value: Any) -> Any:
    """`value` as it will read back from a JSON column (tuples become lists, …)."""
    return json.loads(canonical_json(value))


def sha256_hex(value: Any) -> str:
    """SHA-256 of the canonical JSON of `value`, as 64 hex digits."""
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()
