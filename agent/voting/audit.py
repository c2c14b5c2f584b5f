"""The audit chain without SQL: entry hashes, the head file, and verification.

Each entry's hash covers its own fields and the previous entry's hash, so editing,
deleting or reordering a row breaks the chain where it happened. Deleting the
newest rows leaves a shorter chain that is still valid; the head file, written
outside the database after every append, catches that.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent.errors import StewardError
from agent.home import DataHome
from agent.voting.canonical import sha256_hex
from agent.voting.models import AuditEntry, AuditHead, AuditProblem, AuditReport

GENESIS = "0" * 64
"""The `prev_hash` of the first entry."""


class AuditHeadError(StewardError):
    """The head file exists but cannot be read as a head."""


def head_path(home: Path) -> Path:
    """Where a data directory keeps its audit head: `<home>/audit.head`."""
    return DataHome(home).audit_head


def entry_hash(
    *,
    seq: int,
    ts: int,
    kind: str,
    delegate: str | None,
    proposal_uid: str | None,
    data: Mapping[str, Any],
    prev_hash: str,
) -> str:
    """SHA-256 over the canonical JSON of the entry's fields and the previous hash."""
    return sha256_hex(
        {
            "seq": seq,
            "ts": ts,
            "kind": kind,
            "delegate": delegate,
            "proposal_uid": proposal_uid,
            "data": dict(data),
            "prev_hash": prev_hash,
        }
    )


def recompute(entry: AuditEntry, seq: int | None = None) -> str:
    """The hash `entry` should carry (as if written at `seq`, when given)."""
    return entry_hash(
        seq=entry.seq if seq is None else seq,
        ts=entry.ts,
        kind=entry.kind,
        delegate=entry.delegate,
        proposal_uid=entry.proposal_uid,
        data=entry.data,
        prev_hash=entry.prev_hash,
    )


class HeadFile:
    """`{"seq": N, "hash": "…"}` in a file, replaced atomically and only ever advanced.

    Two processes appending at once may finish in either order; the head moves
    forward only (under a lock on a sidecar file), so it never points behind an
    entry that was anchored before.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> AuditHead | None:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            return AuditHead.model_validate_json(raw)
        except ValidationError as exc:
            raise AuditHeadError(f"the audit head file {self.path} is unreadable") from exc

    def advance(self, head: AuditHead) -> None:
        """Record `head` unless the file already holds a later one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
            try:
                current = self.read()
            except AuditHeadError:
                current = None  # overwrite garbage with the truth we just wrote
            if current is None or head.seq > current.seq:
                self._replace(head)
        finally:
            os.close(lock_fd)  # closing releases the flock

    def _replace(self, head: AuditHead) -> None:
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(json.dumps(head.model_dump()) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def verify_chain(
    entries: Sequence[AuditEntry], head: AuditHead | None, *, require_head: bool = True
) -> AuditReport:
    """Walk `entries` (ordered by seq) and compare the end with `head`.

    With `require_head`, a missing head under a non-empty log is a failure: without
    it, removing the newest entries cannot be told from never having written them.
    """
    last = entries[-1] if entries else None
    base = {"entries": len(entries), "last_seq": last.seq if last else None, "head": head}
    broken = _first_break(entries)
    if broken is not None:
        seq, problem, detail = broken
        return AuditReport(ok=False, broken_seq=seq, problem=problem, detail=detail, **base)
    if head is None:
        if last is None or not require_head:
            return AuditReport(ok=True, **base)
        return AuditReport(
            ok=False,
            problem="head_missing",
            detail="the audit head file is missing: truncation of the newest entries "
            "cannot be ruled out",
            **base,
        )
    return _against_head(entries, head, base)


def _against_head(
    entries: Sequence[AuditEntry], head: AuditHead, base: dict[str, Any]
) -> AuditReport:
    last_seq = entries[-1].seq if entries else 0
    if head.seq > last_seq:
        return AuditReport(
            ok=False,
            broken_seq=last_seq + 1,
            problem="truncated",
            detail=f"the head file records seq {head.seq} but the log ends at {last_seq}: "
            "the newest entries were removed",
            **base,
        )
    anchored = entries[head.seq - 1]  # the chain is gap-free from seq 1 here
    if anchored.hash != head.hash:
        return AuditReport(
            ok=False,
            broken_seq=head.seq,
            problem="head_mismatch",
            detail=f"seq {head.seq} does not carry the hash the head file recorded",
            **base,
        )
    warnings = []
    if head.seq < last_seq:
        warnings.append(
            f"the head file is at seq {head.seq}, behind the log ({last_seq}): "
            "a process stopped between writing an entry and anchoring it"
        )
    return AuditReport(ok=True, warnings=warnings, **base)


def extends(head: AuditHead | None, entries: Sequence[AuditEntry]) -> bool:
    """Whether `entries` (by seq, from the entry `head` anchored, or from seq 1 without
    one) are that entry, intact, followed by an unbroken chain."""
    if head is None:
        return _first_break(entries) is None
    if not entries or entries[0].seq != head.seq or entries[0].hash != head.hash:
        return False
    if recompute(entries[0]) != head.hash:
        return False
    return _first_break(entries[1:], start=head.seq + 1, prev_hash=head.hash) is None


def _first_break(
    entries: Sequence[AuditEntry], *, start: int = 1, prev_hash: str = GENESIS
) -> tuple[int, AuditProblem, str] | None:
    for expected, entry in enumerate(entries, start):
        if entry.seq != expected:
            missing = f"{expected}" if entry.seq == expected + 1 else f"{expected}-{entry.seq - 1}"
            return expected, "deleted", f"seq {missing} missing: entries were deleted"
        if recompute(entry) != entry.hash:
            return expected, *_hash_problem(entry, len(entries))
        if entry.prev_hash != prev_hash:
            return (
                expected,
                "deleted",
                f"its prev_hash does not match seq {expected - 1}: an entry before it "
                "was deleted or replaced",
            )
        prev_hash = entry.hash
    return None


def _hash_problem(entry: AuditEntry, count: int) -> tuple[AuditProblem, str]:
    """Edited in place, or a genuine entry moved to another seq?"""
    for seq in range(1, count + 2):
        if seq != entry.seq and recompute(entry, seq) == entry.hash:
            return "reordered", f"the entry at seq {entry.seq} was written as seq {seq}"
    return "edited", f"the entry at seq {entry.seq} does not match its hash: it was edited"
