"""The CLI's rich consoles: errors stay one line when they go to a pipe or a log.

Rich wraps at 80 columns when it cannot ask a terminal for its width, which turned
one error into several lines for whoever greps a log. On a terminal it still wraps.
"""

from __future__ import annotations

from rich.console import Console


def err_console() -> Console:
    """stderr, soft-wrapped (one line per message) unless it is a terminal."""
    console = Console(stderr=True)
    console.soft_wrap = not console.is_terminal
    return console
