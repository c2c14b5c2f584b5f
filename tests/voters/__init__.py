"""Voter views: helpers that put proposals and votes into a real RecordStore.

`aave-*-32-38.jsonl` are seven real Aave GovernanceV2 proposals and their 86 votes, cut
from ../shared/data/governor-*.jsonl (bhemen/dao-governance event data), so the suite
runs without the shared folder.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.models import Proposal, Vote, utc
from agent.store import RecordStore

HERE = Path(__file__).resolve().parent
CHOICES = ["For", "Against", "Abstain"]
SUPPORT = {"for": 1, "against": 2, "abstain": 3}
T0 = 1_700_000_000


def proposal(pid: str, space: str = "dao.eth", **kw: Any) -> Proposal:
    base: dict[str, Any] = dict(
        source="snapshot",
        space=space,
        id=pid,
        title=f"Proposal {pid}",
        choices=CHOICES,
        state="closed",
        created=utc(T0),
        end=utc(T0 + 86400),
        link=f"https://snapshot.org/#/{space}/proposal/{pid}",
    )
    return Proposal(**{**base, **kw})


def vote(p: Proposal, voter: str, choice: Any, power: float, at: int = T0, **kw: Any) -> Vote:
    return Vote(
        source=p.source,
        id=f"{p.id}:{voter}",
        proposal_uid=p.uid,
        space=p.space,
        voter=voter,
        choice=choice,
        voting_power=power,
        created=utc(at),
        **kw,
    )


def store_with(tmp_path: Path, proposals: list[Proposal], votes: list[Vote]) -> RecordStore:
    store = RecordStore(f"sqlite:///{tmp_path / 'voters.db'}")
    store.apply_proposals(proposals)
    if votes:
        store.apply_votes(votes)
    return store


def _ts(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def load_aave(store: RecordStore) -> list[dict[str, Any]]:
    """The real fixture into `store` (space `aave`, power in AAVE); returns the raw votes."""
    meta = [json.loads(line) for line in (HERE / "aave-proposals-32-38.jsonl").open()]
    rows = [json.loads(line) for line in (HERE / "aave-votes-32-38.jsonl").open()]
    for m in meta:
        pid = str(m["proposal_id"])
        mine = [r for r in rows if str(r["proposal_id"]) == pid]
        p = proposal(
            pid,
            space="aave",
            source="archive",
            title=m["title"],
            created=utc(_ts(m["created_timestamp"])),
            end=utc(max(_ts(r["timestamp"]) for r in mine)),
            outcome=m["final_state_derived"],
            link=None,
        )
        store.apply_proposals([p])
        store.apply_votes(
            [
                vote(
                    p,
                    r["voter"],
                    SUPPORT[r["support"]],
                    int(r["votes_raw"]) / 1e18,
                    _ts(r["timestamp"]),
                    block=r["block_number"],
                )
                for r in mine
            ]
        )
    return rows
