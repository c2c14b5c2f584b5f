"""Making untrusted text (proposals, model output, user input) harmless on Discord.

Proposal text is written by anyone. On Discord it could ping `@everyone`, pose
as a link to somewhere else (`[snapshot.org](https://evil)`), or hide itself
behind bidi and zero-width characters. `safe` renders it as literal text; the
digest's Markdown helpers do the escaping so both paths behave the same.
"""

from __future__ import annotations

import re
from datetime import datetime

from agent.digest.render import clean, md_escape, safe_url

ELLIPSIS = "…"
_HIDDEN = re.compile(
    "[\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
    "\U000e0000-\U000e007f]"
)
"""Zero-width, bidi and tag characters: invisible, and able to reorder or hide what is shown."""
_MD_LINK = re.compile(
    r"!?\[([^\[\]\n]{0,1000})\]"
    r"\(\s*<?[^()\s<>]*(?:\([^()\s]*\)[^()\s<>]*)*>?(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'))?\s*\)"
)
_PING = re.compile(r"(@)|<(?=[#@/:&!]|a:|t:)")
_MAX_LINK_PASSES = 5
_URL_LIMIT = 512
"""Longer URLs are shown as text: a link in a field must fit with room to spare."""


def safe(text: str, limit: int, *, multiline: bool = False) -> str:
    """`text` as literal Discord text of at most `limit` characters.

    Mentions are broken with a zero-width space, Markdown is escaped, masked
    links keep only their text, `://` is escaped so nothing auto-links, and
    invisible characters are removed. With `multiline`, line breaks survive
    (runs of blank lines become one); otherwise all whitespace becomes one space.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    cap = max(limit * 8, 4096)
    cut = len(text) > cap
    text = strip_links(_HIDDEN.sub("", text[:cap]))
    if multiline:
        lines = [str(md_escape(line)) for line in text.replace("\r\n", "\n").split("\n")]
        out = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    else:
        out = str(md_escape(text))
    return truncate(out, limit, force=cut)


def plain(text: str, limit: int) -> str:
    """One clean line for places Discord shows without Markdown (footers).

    Mentions are still broken: plain text must never ping, wherever it ends up.
    """
    cap = max(limit * 8, 4096)
    out = _PING.sub(
        lambda m: "@\u200b" if m.group(1) else "<\u200b", clean(_HIDDEN.sub("", text[:cap]))
    )
    return truncate(out, limit, force=len(text) > cap)


def strip_links(text: str) -> str:
    """`[label](url)` and `![alt](url)` become `label`/`alt`: proposal text never links."""
    for _ in range(_MAX_LINK_PASSES):
        stripped = _MD_LINK.sub(lambda m: m.group(1), text)
        if stripped == text:
            break
        text = stripped
    return text


def truncate(text: str, limit: int, *, force: bool = False) -> str:
    """At most `limit` characters, ending in `…` when anything was cut.

    Never leaves a lone trailing backslash, which would escape the ellipsis.
    """
    if len(text) <= limit and not force:
        return text
    head = text if len(text) < limit else text[: max(0, limit - 1)]
    trailing = len(head) - len(head.rstrip("\\"))
    if trailing % 2:
        head = head[:-1]
    return head.rstrip() + ELLIPSIS


def link(url: str | None) -> str | None:
    """`<url>` (shown in full, no preview) for a plain, short http(s) URL; else None."""
    good = safe_url(url)
    if good is None or len(good) > _URL_LIMIT:
        return None
    return f"<{good}>"


def embed_url(url: str | None) -> str | None:
    """A URL fit for an embed's clickable title: plain http(s) and short, else None."""
    good = safe_url(url)
    return good if good is not None and len(good) <= _URL_LIMIT else None


def stamp(when: datetime, style: str = "R") -> str:
    """A Discord timestamp (`<t:UNIX:R>`): each reader sees it in their own time zone."""
    if when.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return f"<t:{int(when.timestamp())}:{style}>"
