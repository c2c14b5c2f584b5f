"""Rules for vote intents that need no database: transitions and error redaction.

The store records whatever error text it is given, so callers pass it through
`redact` first, with every secret they hold (signer key, API keys, RPC URLs).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from agent.voting.models import TRANSITIONS, IntentStatus

REDACTED = "[redacted]"
MAX_ERROR = 500

_URL_CREDENTIALS = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)[^/\s@]+@", re.I)
_KEY_VALUE = re.compile(
    r"(?P<key>\b(?:api[_-]?key|access[_-]?token|token|secret|password|passwd|"
    r"private[_-]?key|mnemonic|authorization)\b[\"']?\s*[=:]\s*[\"']?)"
    r"(?:bearer\s+)?[^\s\"'&,;]+",
    re.I,
)
_BEARER = re.compile(r"\bbearer\s+[A-Za-z0-9._~+/=-]+", re.I)
_HEX = re.compile(r"^(?:0x)?[0-9a-f]+$", re.I)


def delegate_key(delegate: str) -> str:
    """How a delegate is stored and compared: addresses and ENS names ignore case."""
    return delegate.strip().lower()


def allowed_from(new: IntentStatus) -> tuple[IntentStatus, ...]:
    """The statuses an intent may be in to move to `new` (the compare in compare-and-set)."""
    return tuple(old for old, targets in TRANSITIONS.items() if new in targets)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every given secret, URL credential and key=value secret replaced.

    Secrets match case-insensitively; a hex secret also matches with or without
    its `0x`. Long text is cut to MAX_ERROR characters (after redaction, so a
    cut never leaves half a secret).
    """
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        for variant in _variants(secret):
            text = re.sub(re.escape(variant), REDACTED, text, flags=re.I)
    text = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{REDACTED}@", text)
    text = _KEY_VALUE.sub(lambda m: f"{m['key']}{REDACTED}", text)
    text = _BEARER.sub(f"Bearer {REDACTED}", text)
    return text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 1] + "…"


def _variants(secret: str) -> list[str]:
    if _HEX.match(secret) and len(secret) >= 8:
        bare = secret[2:] if secret.lower().startswith("0x") else secret
        return [f"0x{bare}", bare]
    return [secret]
