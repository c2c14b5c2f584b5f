"""Import proposals from an exported archive file (JSON Lines).

Three shapes are understood, line by line:
- Steward's own export: one `Proposal` as JSON per line;
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
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from agent.errors import ArchiveError
from agent.models import Proposal, ProposalState
from agent.ports import ProposalPage, SyncItem, SyncState
from agent.store.records import CursorUpdate

SOURCE: Final = "archive"
_BATCH = 50
_DISCUSSION = re.compile(r"\*\*Discussion Thread\*\*\s*\|\s*\[[^\]]*\]\((https?://[^)\s]+)\)")


class ArchiveSource:
    """A ProposalSource reading one JSONL archive; resumable by line."""

    name = SOURCE

    def __init__(self, path: str | Path, *, space: str | None = None) -> None:
        self.path = Path(path)
        self.space = space

    def scopes(self) -> list[str]:
        return [self.path.name]

    def sync(
        self, scope: str, state: SyncState, *, full: bool = False, votes: bool = True
    ) -> Iterator[SyncItem]:
        raw = _read(self.path)
        digest = hashlib.sha256(raw).hexdigest()
        proposals = self._parse(raw)
        cursor_scope = f"file:{scope}"
        cursor = None if full else state.get_cursor(SOURCE, cursor_scope)
        # Resume an interrupted import of the same file; a finished one is re-read in
        # full (cheap, idempotent) so the counts say "unchanged" rather than nothing.
        done = cursor.get("done", 0) if cursor and cursor.get("sha256") == digest else 0
        start = done if done < len(proposals) else 0
        for offset in range(start, len(proposals), _BATCH):
            batch = proposals[offset : offset + _BATCH]
            done = offset + len(batch)
            yield ProposalPage(
                proposals=batch,
                cursor=CursorUpdate(
                    source=SOURCE, scope=cursor_scope, value={"sha256": digest, "done": done}
                ),
            )

    def _parse(self, raw: bytes) -> list[Proposal]:
        proposals = []
        for number, line in enumerate(self._text(raw).splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ArchiveError(f"{self.path}:{number}: not valid JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise ArchiveError(f"{self.path}:{number}: expected a JSON object")
            try:
                proposals.append(to_proposal(record, self.space))
            except ValidationError as exc:
                first = exc.errors()[0]
                field = ".".join(str(x) for x in first["loc"])
                raise ArchiveError(f"{self.path}:{number}: {field}: {first['msg']}") from None
            except (KeyError, TypeError, ValueError) as exc:
                raise ArchiveError(f"{self.path}:{number}: {exc}") from None
        if not proposals:
            raise ArchiveError(f"{self.path}: no proposals in the file")
        return proposals

    def _text(self, raw: bytes) -> str:
        try:
            return raw.decode("utf-8", errors="strict")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise ArchiveError(
                f"{self.path}:{line}: not UTF-8 (byte {raw[exc.start]:#04x} at offset "
                f"{exc.start}); save the file as UTF-8 and import it again"
            ) from None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ArchiveError(f"cannot read {path}: {exc.strerror}") from None


def to_proposal(record: dict[str, Any], space: str | None) -> Proposal:
    """Recognise the record's shape and map it onto the domain model."""
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
