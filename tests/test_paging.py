"""Paging by `created` past the skip limit, with ties at the window boundary."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from agent.errors import SourceError
from connectors.snapshot.paging import page_by_created


@dataclass(frozen=True)
class Item:
    id: str
    created: int


def _server(items: list[Item], max_first: int, max_skip: int, calls: list[tuple]):
    ordered = sorted(items, key=lambda i: (i.created, i.id))

    def fetch(first: int, skip: int, created_gte: int) -> list[Item]:
        assert first <= max_first and skip <= max_skip, "hub limit broken"
        calls.append((first, skip, created_gte))
        window = [i for i in ordered if i.created >= created_gte]
        return window[skip : skip + first]

    return fetch


@pytest.mark.parametrize("per_second", [1, 3, 7])
def test_every_item_once_across_windows(per_second: int) -> None:
    items = [Item(f"i{n:04d}", 1000 + n // per_second) for n in range(257)]
    calls: list[tuple] = []
    pages = list(page_by_created(_server(items, 10, 40, calls), since=0, page_size=10, max_skip=40))
    got = [i.id for page in pages for i in page]
    assert got == [i.id for i in items]
    assert any(skip == 0 and gte > 0 for _, skip, gte in calls)  # re-windowed by created


def test_resume_from_cursor_skips_older() -> None:
    items = [Item(f"i{n}", n) for n in range(30)]
    got = [
        i.id
        for p in page_by_created(_server(items, 10, 40, []), since=25, page_size=10, max_skip=40)
        for i in p
    ]
    assert got == ["i25", "i26", "i27", "i28", "i29"]


def test_more_ties_than_the_hub_can_page_is_an_error() -> None:
    items = [Item(f"i{n:03d}", 7) for n in range(80)]
    with pytest.raises(SourceError, match="share the timestamp 7"):
        list(page_by_created(_server(items, 10, 20, []), since=0, page_size=10, max_skip=20))
