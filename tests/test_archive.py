"""Importing exported archives: ENS docs, DAO docs, Steward's own format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.errors import ArchiveError
from agent.ingest import IngestFailed, ingest
from agent.store import RecordStore
from connectors.archive import ArchiveSource
from tests.conftest import ENS_ARCHIVE


@pytest.fixture
def store(tmp_path: Path) -> RecordStore:
    return RecordStore(f"sqlite:///{tmp_path / 's.db'}")


def test_ens_archive_imports_every_proposal(store: RecordStore) -> None:
    counts = ingest(ArchiveSource(ENS_ARCHIVE), store)
    assert counts.new == 129
    p = store.get("archive:ens.eth:ep0.1").proposal
    assert p.title.startswith("[EP0.1]") and p.outcome == "Passed" and p.state == "closed"
    assert p.discussion == "https://discuss.ens.domains/t/6307"
    assert str(p.extra.model_dump()["snapshot_id"]).startswith("0xfe73d1b0")
    assert p.author == "fireeyesdao"
    again = ingest(ArchiveSource(ENS_ARCHIVE), store)
    assert (again.new, again.unchanged) == (0, 129)


def test_bad_line_names_line_and_field_and_stores_nothing(
    tmp_path: Path, store: RecordStore
) -> None:
    lines = ENS_ARCHIVE.read_text().splitlines()[:3]
    broken = json.loads(lines[2])
    del broken["title"]
    path = tmp_path / "a.jsonl"
    path.write_text("\n".join([*lines[:2], json.dumps(broken)]))
    with pytest.raises(IngestFailed, match=r"a\.jsonl:3: .*title") as info:
        ingest(ArchiveSource(path), store)
    assert isinstance(info.value.__cause__, ArchiveError)
    assert store.proposals() == []
    path.write_text("{not json\n")
    with pytest.raises(IngestFailed, match=r"a\.jsonl:1: not valid JSON"):
        ingest(ArchiveSource(path), store)


def test_invalid_utf8_names_the_line_and_stores_nothing(tmp_path: Path, store: RecordStore) -> None:
    good = ENS_ARCHIVE.read_bytes().splitlines()[:2]
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b"\n".join([*good, '{"title": "Caf\u00e9"}'.encode("latin-1")]) + b"\n")
    with pytest.raises(IngestFailed, match=r"latin1\.jsonl:3: not UTF-8 \(byte 0xe9"):
        ingest(ArchiveSource(path), store)
    assert store.proposals() == []


def test_steward_export_round_trips(tmp_path: Path, store: RecordStore) -> None:
    ingest(ArchiveSource(ENS_ARCHIVE), store)
    originals = store.proposals()[:5]
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(p.model_dump_json() for p in originals))
    other = RecordStore(f"sqlite:///{tmp_path / 'other.db'}")
    assert ingest(ArchiveSource(path), other).new == 5
    assert other.proposals() == originals


def test_dao_docs_records(tmp_path: Path, store: RecordStore) -> None:
    record = {
        "dao": "Yearn",
        "id": "YIP-0",
        "file_name": "yip-0.md",
        "title": "Purpose",
        "status": "Implemented",
        "created": "2020-07-22",
        "authors": "Yearn Community",
        "body": "What is a YIP?",
        "links": {"vote": [], "discussion": ["https://x.y"]},
    }
    path = tmp_path / "y.jsonl"
    path.write_text(json.dumps(record))
    ingest(ArchiveSource(path), store)
    (p,) = store.proposals()
    assert (p.space, p.id, p.created.year, p.discussion) == (
        "yearn",
        "yearn:yip-0.md",
        2020,
        "https://x.y",
    )


def test_resume_by_line_after_interruption(tmp_path: Path, store: RecordStore) -> None:
    source = ArchiveSource(ENS_ARCHIVE)
    items = source.sync(source.scopes()[0], store)
    first = next(items)
    store.apply_proposals(first.proposals, first.cursor)  # then the process "dies"
    counts = ingest(ArchiveSource(ENS_ARCHIVE), store)
    assert counts.new == 129 - len(first.proposals) and counts.unchanged == 0


GOV_PROPOSALS = ENS_ARCHIVE.parent / "aave-governor-proposals.jsonl"
GOV_VOTES = ENS_ARCHIVE.parent / "aave-governor-votes.jsonl"
AAVE_GOV = "0xec568fffba86c094cf06b22134b23074dfe2252c"


def test_governor_archives_bring_proposals_actions_and_votes(store: RecordStore) -> None:
    # Votes file first on purpose: proposal files are applied before vote files.
    counts = ingest(ArchiveSource([GOV_VOTES, GOV_PROPOSALS]), store)
    assert (counts.new, counts.votes) == (60, 264)
    p = store.get(f"archive:aave:{AAVE_GOV}:3").proposal
    assert (p.space, p.state, p.choices) == ("aave", "executed", ["For", "Against", "Abstain"])
    assert p.created is not None and p.end is not None and p.end > p.created
    assert (p.extra.actions or [{}])[0]["function"].startswith("execute(address")
    assert {f["kind"] for f in p.extra.action_flags or []} >= {"unknown_target"}
    votes = store.votes(p.uid)
    assert votes and {v.choice for v in votes} <= {1, 2, 3}
    assert all(v.created >= p.created for v in votes)
    defeated = [q for q in store.proposals() if q.state == "defeated"]
    assert defeated and all(q.outcome == "defeated or expired" for q in defeated)
    again = ingest(ArchiveSource([GOV_PROPOSALS, GOV_VOTES]), store)
    assert (again.new, again.unchanged, again.votes) == (0, 60, 0)


def test_votes_alone_need_their_proposals_stored(tmp_path: Path, store: RecordStore) -> None:
    with pytest.raises(IngestFailed, match=r"aave-governor-votes\.jsonl:1: vote for proposal"):
        ingest(ArchiveSource(GOV_VOTES), store)
    assert store.proposals() == [] and store.get_cursor("archive", "file:" + GOV_VOTES.name) is None
    ingest(ArchiveSource(GOV_PROPOSALS), store)
    assert ingest(ArchiveSource(GOV_VOTES), store).votes == 264


def test_bad_vote_line_stops_both_files(tmp_path: Path, store: RecordStore) -> None:
    lines = GOV_VOTES.read_text().splitlines()[:5]
    bad = json.loads(lines[3])
    bad["support"] = "maybe"
    votes = tmp_path / "votes.jsonl"
    votes.write_text("\n".join([*lines[:3], json.dumps(bad), lines[4]]))
    with pytest.raises(IngestFailed, match=r"votes\.jsonl:4: support: 'maybe'"):
        ingest(ArchiveSource([GOV_PROPOSALS, votes]), store)
    assert store.proposals() == []
    del bad["voter"]
    votes.write_text("\n".join([*lines[:3], json.dumps(bad)]))
    with pytest.raises(IngestFailed, match=r"votes\.jsonl:4: "):
        ingest(ArchiveSource([GOV_PROPOSALS, votes]), store)
    assert store.proposals() == []
