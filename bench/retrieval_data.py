"""Question → proposal pairs from real, human-written summaries in the shared data.

The question a member types is rarely the proposal's title: it is closer to the
one-line summary authors write for readers. Three corpora carry such a line:

- Aave's on-chain proposals: the `short_description` field;
- MakerDAO MIPs: the `## Sentence Summary` section;
- Synthetix SIPs/SCCPs and Yearn YIPs: the `## Simple Summary` section.

The summary becomes the query and is removed from the indexed body (section and
any verbatim copy), so a hit has to come from the rest of the proposal. Summaries
shared by two proposals of a DAO have no single right answer and are left out.
Sampling is seeded and per DAO, so every method is judged on the same pairs.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from agent.models import Proposal

_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_HEADING = re.compile(r"(?m)^#{1,6}\s")
_MIN_WORDS = 4
_MAX_QUERY_WORDS = 60  # a question box, not a page: the summary's first sentences


@dataclass(frozen=True)
class Pair:
    query: str
    proposal: Proposal


def _section(body: str, names: str) -> tuple[str, str] | None:
    """(section text, body without that section) for the first heading matching `names`."""
    heading = re.search(rf"(?im)^#{{1,4}}\s*(?:{names})\s*:?\s*$", body)
    if not heading:
        return None
    rest = body[heading.end() :]
    following = _HEADING.search(rest)
    end = following.start() if following else len(rest)
    return rest[:end], body[: heading.start()] + rest[end:]


def _as_query(text: str) -> str:
    words = _COMMENT.sub(" ", text).split()
    return " ".join(words[:_MAX_QUERY_WORDS])


def _created(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)[:19]).replace(tzinfo=UTC)
    except ValueError:
        return None


def _proposal(space: str, pid: str, title: str, body: str, created: object) -> Proposal:
    return Proposal(
        source="archive",
        space=space,
        id=f"{space}/{pid}",
        title=title,
        body=body,
        state="closed",
        created=_created(created),
    )


def _aave(data: Path) -> Iterator[Pair]:
    for line in (data / "governor-proposals.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        summary = (row.get("short_description") or "").strip()
        if row["dao"] != "Aave" or not summary:
            continue
        body = (row.get("description") or "").replace(summary, " ")
        title = row.get("title") or ""
        yield Pair(
            _as_query(summary),
            _proposal("aave", row["proposal_id"], title, body, row.get("created_timestamp")),
        )


def _dao_file(data: Path, name: str, space: str, sections: str) -> Iterator[Pair]:
    for line in (data / "dao-proposals" / name).open(encoding="utf-8"):
        row = json.loads(line)
        found = _section(row.get("body") or "", sections)
        if not found:
            continue
        summary, body = found
        query = _as_query(summary)
        if query:
            body = body.replace(_COMMENT.sub("", summary).strip(), " ")
            pid = row.get("file_name") or row["id"]
            yield Pair(query, _proposal(space, pid, row["title"], body, row.get("created")))


def load_pairs(data: Path, per_dao: int, seed: int) -> dict[str, list[Pair]]:
    """Up to `per_dao` pairs per DAO, seeded, summaries unique within their DAO."""
    corpora = {
        "aave": list(_aave(data)),
        "makerdao": list(
            _dao_file(data, "makerdao-proposals.jsonl", "makerdao", "sentence summary")
        ),
        "synthetix": list(
            _dao_file(data, "synthetix-proposals.jsonl", "synthetix", "simple summary")
        ),
        "yearn": list(_dao_file(data, "yearn-proposals.jsonl", "yearn", "simple summary")),
    }
    out: dict[str, list[Pair]] = {}
    for dao, pairs in corpora.items():
        seen = Counter(p.query.lower() for p in pairs)
        ids = Counter(p.proposal.uid for p in pairs)
        usable = [
            p
            for p in pairs
            if seen[p.query.lower()] == 1
            and ids[p.proposal.uid] == 1
            and len(p.query.split()) >= _MIN_WORDS
        ]
        random.Random(f"{seed}:{dao}").shuffle(usable)
        out[dao] = usable[:per_dao]
    return out
