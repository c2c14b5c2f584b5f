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
    assert p.extra["snapshot_id"].startswith("0xfe73d1b0")
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
