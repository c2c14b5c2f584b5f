"""The digest: what is new, what closes soon and what just ended, for delegates.

`build_digest` reads the record store; `render` turns the result into Markdown
(Discord), a self-contained HTML page, or JSON; `split_for_discord` cuts the
Markdown into messages Discord accepts.
"""

from agent.digest.build import Digest, DigestItem, TallyEntry, build_digest
from agent.digest.discord import split_for_discord
from agent.digest.render import (
    FORMATS,
    Format,
    parse_since,
    render,
    to_html,
    to_json,
    to_markdown,
)

__all__ = [
    "FORMATS",
    "Digest",
    "DigestItem",
    "Format",
    "TallyEntry",
    "build_digest",
    "parse_since",
    "render",
    "split_for_discord",
    "to_html",
    "to_json",
    "to_markdown",
]
