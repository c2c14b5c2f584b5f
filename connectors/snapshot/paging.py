"""Paging past the hub's `skip` limit.

`first` ≤ 1000 and `skip` ≤ 5000: a long list is read in windows ordered by
`created`. When the next skip would pass the limit, a new window starts at the
last `created` seen (`created_gte`), and the items of that second already
yielded are skipped, so several items sharing a timestamp are neither lost
nor repeated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, TypeVar

from agent.errors import SourceError


class _Timed(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def created(self) -> int: ...


T = TypeVar("T", bound=_Timed)
Fetch = Callable[[int, int, int], Sequence[T]]  # (first, skip, created_gte) -> page


def page_by_created(
    fetch: Fetch[T], *, since: int, page_size: int, max_skip: int
) -> Iterator[list[T]]:
    """Yield pages of new items in `created` order, starting at `since`."""
    skip = 0
    window_start = since
    last_second = since
    seen_at_last_second: set[str] = set()
    while True:
        page = fetch(page_size, skip, window_start)
        fresh = []
        for item in page:
            if item.created == last_second and item.id in seen_at_last_second:
                continue
            if item.created != last_second:
                last_second, seen_at_last_second = item.created, set()
            seen_at_last_second.add(item.id)
            fresh.append(item)
        if fresh:
            yield fresh
        if len(page) < page_size:
            return
        if skip + page_size <= max_skip:
            skip += page_size
            continue
        if last_second == window_start:
            raise SourceError(
                f"more than {max_skip + page_size} items share the timestamp {window_start}; "
                "the hub cannot page past them"
            )
        window_start, skip = last_second, 0
