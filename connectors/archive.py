"""Import proposals from an exported archive file (JSON Lines).

Shapes understood, line by line:
- Steward's own export: one `Proposal` as JSON per line;
- on-chain Governor proposals and votes (`connectors/governor_archive.py`);
- the ENS DAO docs archive (`ep`, `title`, `status`, `body`, …);
- DAO improvement-proposal repositories (`dao`, `id`, `title`, `status`, …).
The whole file is validated before anything is stored: a bad line is an
`ArchiveError` naming the line and field, and the store is left as it was.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from agent.cursors import CursorUpdate
from agent.errors import ArchiveError
from agent.models import Proposal, ProposalState, Vote
from agent.ports import ProposalPage, SyncItem, SyncState, VotePage
from connectors.governor_archive import (
    is_governor_proposal,
    is_governor_vote,
    to_governor_proposal,
    to_governor_vote,
    vote_proposal_uid,
)

SOURCE: Final = "archive"
_BATCH = 50
_DISCUSSION = re.compile(r"\*\*Discussion Thread\*\*\s*\|\s*\[[^\]]*\]\((https?://[^)\s]+)\)")


@dataclass
class _File:
    """One archive file, parsed and validated in full before anything is stored."""

    path: Path
    digest: str
    proposals: list[Proposal] = field(default_factory=list)
    votes: dict[str, list[Vote]] = field(default_factory=dict)
    """Votes by proposal uid, in file order."""
    vote_lines: dict[str, int] = field(default_factory=dict)
    """The first line naming each proposal uid, for errors."""


class ArchiveSource:
    """A ProposalSource reading JSONL archives (proposals, Governor votes); resumable.

    Every file is parsed and checked before the first item is yielded, so a bad line
    anywhere, or a vote whose proposal is neither in these files nor stored, stops
    the import with nothing written. Proposal files go first, so a vote file given
    with its proposal file in one command finds them.
    """

    name = SOURCE

    def __init__(
        self, path: str | Path | Sequence[str | Path], *, space: str | None = None
    ) -> None:
        paths = [path] if isinstance(path, str | Path) else list(path)
        self.paths = [Path(p) for p in paths]
        self.space = space
        self._files: dict[str, _File] | None = None
        names = [p.name for p in self.paths]
        if len(set(names)) != len(names):
            raise ArchiveError("two archive files share a name: " + ", ".join(names))

    @property
    def path(self) -> Path:
        return self.paths[0]

    def scopes(self) -> list[str]:
        """File names, vote files last (parsing, and its errors, wait for `sync`)."""
        return [p.name for p in sorted(self.paths, key=_starts_with_a_vote)]

    def sync(
        self, scope: str, state: SyncState, *, full: bool = False, votes: bool = True
    ) -> Iterator[SyncItem]:
        files = self._parsed_files()
        self._check_votes(files, state)
        f = files[scope]
        pages: list[SyncItem] = []
        cursor_scope = f"file:{scope}"
        for offset in range(0, len(f.proposals), _BATCH):
            pages.append(ProposalPage(proposals=f.proposals[offset : offset + _BATCH]))
        if votes:
            pages += [
                VotePage(proposal_uid=uid, votes=vs, complete=True) for uid, vs in f.votes.items()
            ]
        cursor = None if full else state.get_cursor(SOURCE, cursor_scope)
        # Resume an interrupted import of the same file; a finished one is re-read in
        # full (cheap, idempotent) so the counts say "unchanged" rather than nothing.
        done = cursor.get("done", 0) if cursor and cursor.get("sha256") == f.digest else 0
        start = done if done < len(pages) else 0
        for position in range(start, len(pages)):
            update = CursorUpdate(
                source=SOURCE, scope=cursor_scope, value={"sha256": f.digest, "done": position + 1}
            )
            yield pages[position].model_copy(update={"cursor": update})

    def _parsed_files(self) -> dict[str, _File]:
        if self._files is None:
            self._files = {p.name: self._parse(p) for p in self.paths}
        return self._files

    def _check_votes(self, files: dict[str, _File], state: SyncState) -> None:
        """Every vote's proposal must be in these files or already stored."""
        here = {p.uid for f in files.values() for p in f.proposals}
        for f in files.values():
            for uid, line in f.vote_lines.items():
                if uid not in here and state.get(uid) is None:
                    raise ArchiveError(
                        f"{f.path}:{line}: vote for proposal {uid}, which is neither in "
                        "the files given nor stored: import its proposals first "
                        "(or in the same command)"
                    )

    def _parse(self, path: Path) -> _File:
        raw = _read(path)
        f = _File(path=path, digest=hashlib.sha256(raw).hexdigest())
        for number, line in enumerate(_text(raw, path).splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ArchiveError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise ArchiveError(f"{path}:{number}: expected a JSON object")
            try:
                if is_governor_vote(record):
                    uid, space = vote_proposal_uid(record, self.space)
                    f.votes.setdefault(uid, []).append(to_governor_vote(record, uid, space))
                    f.vote_lines.setdefault(uid, number)
                else:
                    f.proposals.append(to_proposal(record, self.space))
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(x) for x in first["loc"])
                raise ArchiveError(f"{path}:{number}: {where}: {first['msg']}") from None
            except (KeyError, TypeError, ValueError) as exc:
                raise ArchiveError(f"{path}:{number}: {_describe(exc)}") from None
        if not f.proposals and not f.votes:
            raise ArchiveError(f"{path}: no proposals or votes in the file")
        return f


def _starts_with_a_vote(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            first = next((line for line in fh if line.strip()), b"")
        record = json.loads(first)
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and is_governor_vote(record)


def _describe(exc: Exception) -> str:
    return f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)


def _text(raw: bytes, path: Path) -> str:
    try:
        return raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ArchiveError(
            f"{path}:{line}: not UTF-8 (byte {raw[exc.start]:#04x} at offset "
            f"{exc.start}); save the file as UTF-8 and import it again"
        ) from None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ArchiveError(f"cannot read {path}: {exc.strerror}") from None


def to_proposal(record: dict[str, Any], space: str | None) -> Proposal:
    """Recognise the record's shape and map it onto the domain model."""
    if is_governor_proposal(record):
        return to_governor_proposal(record, space)
    if "ep" in record:
        return _from_ens_docs(record, space or "ens.eth")
    if "dao" in record and "body" in record:
        return _from_dao_docs(record, space)
    if {"source", "space", "id", "title", "state"} <= record.keys():
        clean = {k: v for k, v in record.items() if k not in ("uid", "content_hash")}
        return Proposal.model_validate(clean)
    raise ValueError("unrecognised record: not a Steward export, ENS docs or DAO docs record")


def _state_from_status(status: str | None) -> ProposalState:
    return "active" if (status or "").strip().lower() in ("active", "draft") else "closed"


def _authors(value: Any) -> str | None:
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, str) and value.startswith("["):
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value
        return ", ".join(map(str, parsed)) if isinstance(parsed, list) else value
    return str(value) if value else None


def _from_ens_docs(r: dict[str, Any], space: str) -> Proposal:
    body = r.get("body") or ""
    match = _DISCUSSION.search(body)
    links = [str(x) for x in r.get("vote_links") or []]
    return Proposal(
        source=SOURCE,
        space=space,
        id=f"{space}:ep{r['ep']}",
        title=str(r["title"]),
        body=body,
        state=_state_from_status(r.get("status")),
        outcome=r.get("status"),
        author=_authors(r.get("authors")),
        discussion=match.group(1) if match else None,
        link=links[0] if links else None,
        links=links,
        extra={
            "ep": r["ep"],
            "kind": r.get("type"),
            "snapshot_id": r.get("snapshot"),
            "tally_id": r.get("tally"),
            "provenance": r.get("source"),
        },
    )


def _date(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).strip("<> ")).replace(tzinfo=UTC)
    except ValueError:
        return None


def _from_dao_docs(r: dict[str, Any], space: str | None) -> Proposal:
    dao = space or str(r["dao"]).lower()
    links = r.get("links") or {}
    votes = [str(x) for x in links.get("vote", [])] if isinstance(links, dict) else []
    discussions = links.get("discussion", []) if isinstance(links, dict) else []
    key = r.get("file_name") or r["id"]
    return Proposal(
        source=SOURCE,
        space=dao,
        id=f"{dao}:{key}",
        title=str(r.get("title") or r["id"]),
        body=r.get("body") or "",
        state=_state_from_status(r.get("status")),
        outcome=r.get("status"),
        author=_authors(r.get("authors")),
        created=_date(r.get("created")),
        discussion=r.get("discussions_to") or (discussions[0] if discussions else None),
        link=votes[0] if votes else None,
        links=votes,
        extra={"category": r.get("category"), "kind": r.get("type"), "provenance": r.get("source")},
    )
