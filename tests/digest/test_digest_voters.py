"""The digest's Who decides line, and its warning when few voters decide an open vote."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent.digest.build import build_digest
from agent.digest.render import to_html, to_markdown
from agent.settings import VotersSettings
from agent.voters.service import VoterFigures
from tests.voters import proposal, store_with, vote

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def test_few_voters_warning_only_for_open_votes(tmp_path: Path) -> None:
    open_p = proposal(
        "open",
        title="Open and concentrated",
        state="active",
        created=NOW - timedelta(hours=2),
        end=NOW + timedelta(hours=20),
    )
    broad = proposal(
        "broad",
        title="Open and broad",
        state="active",
        created=NOW - timedelta(hours=3),
        end=NOW + timedelta(hours=30),
    )
    ended = proposal(
        "ended",
        title="Ended and concentrated",
        state="closed",
        created=NOW - timedelta(days=3),
        end=NOW - timedelta(hours=5),
    )
    t = int((NOW - timedelta(hours=1)).timestamp())
    votes = [vote(p, "0x" + "ee" * 20, 1, 10_000.0, t) for p in (open_p, ended)]
    votes += [vote(p, f"0x{i:040x}", 2, 10.0, t) for p in (open_p, ended) for i in range(4)]
    votes += [vote(broad, f"0x{i:040x}", 1 + i % 2, 10.0, t) for i in range(12)]
    store = store_with(tmp_path, [open_p, broad, ended], votes)
    d = build_digest(store, now=NOW, since=timedelta(days=7))
    by_uid = {i.uid: i for i in d.closing + d.ended}
    assert by_uid["snapshot:open"].concentration.few_decide  # type: ignore[union-attr]
    assert not by_uid["snapshot:broad"].concentration.few_decide  # type: ignore[union-attr]
    md, html = to_markdown(d), to_html(d)
    warning = "Few voters decide: 1 voter holds a majority of the voting power cast so far"
    assert md.count(warning) == html.count(warning) == 2  # open: in closing and in new
    assert "5 voters" in md and "12 voters" in md and "Nakamoto 1" in md
    assert 'class="few"' in html and "Who decides: 12 voters" in html
    figures = VoterFigures(store, VotersSettings(few_voters=1))
    store.apply_votes([vote(open_p, f"0x{i + 100:040x}", 2, 5000.0, t) for i in range(3)])
    later = build_digest(store, now=NOW, since=timedelta(days=7), figures=figures)
    assert to_markdown(later).count(warning) == 0  # votes arrived: one voter no longer decides


def test_no_votes_means_no_line(tmp_path: Path) -> None:
    p = proposal(
        "quiet", state="active", created=NOW - timedelta(hours=1), end=NOW + timedelta(days=1)
    )
    d = build_digest(store_with(tmp_path, [p], []), now=NOW, since=timedelta(days=1))
    assert d.new[0].concentration is not None and d.new[0].concentration.voters == 0
    assert "Who decides" not in to_html(d) and "👥" not in to_markdown(d)
