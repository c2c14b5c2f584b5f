"""On-chain Governor archives (JSON Lines) mapped onto the domain models.

Two record shapes, as in `governor-proposals.jsonl` / `governor-votes.jsonl`:
- a proposal (`record_type: governor_proposal`): description, targets, signatures,
  calldata, tallies, lifecycle events; its actions are decoded like the chain
  source's, so hard rules and the CLI read them the same way;
- a vote (`voter`, `support`, `proposal_id`, `governor_address`, `timestamp`).

A vote names its proposal by (dao, governor address, proposal id), the same triple
that makes the proposal's id, so a vote file can be imported after its proposals.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from agent.decode import RawAction, actions_extra, decode_actions
from agent.models import Proposal, ProposalState, Vote

SOURCE: Final = "archive"
CHOICES: Final = ["For", "Against", "Abstain"]
SUPPORT_TO_CHOICE: Final = {"for": 1, "against": 2, "abstain": 3}
"""1-based into CHOICES, the way the chain source stores Governor votes."""
TOKEN_DECIMALS: Final = 18
"""AAVE, UNI, COMP, ENS and ARB all have 18 decimals."""
SLOW_BLOCK_S: Final = 15
"""Seconds per block used to estimate a voting period's end from its blocks: above
Ethereum's real average (≈13 s before the merge, 12 after), so the estimate errs late
and a backtest never treats an outcome as known before it was."""
_STATES: Final[dict[str, ProposalState]] = {
    "executed": "executed",
    "canceled": "canceled",
    "queued_not_executed": "queued",
    "queued": "queued",
}
_SLUG = re.compile(r"[^a-z0-9]+")


def is_governor_proposal(record: dict[str, Any]) -> bool:
    return record.get("record_type") == "governor_proposal"


def is_governor_vote(record: dict[str, Any]) -> bool:
    return {"voter", "support", "proposal_id", "dao"} <= record.keys()


def space_of(dao: Any, space: str | None = None) -> str:
    """`Aave` → `aave`, `Arbitrum DAO` → `arbitrum-dao` (or the space the user named)."""
    return space or _SLUG.sub("-", str(dao).strip().lower()).strip("-")


def proposal_id(space: str, governor_address: str | None, pid: Any) -> str:
    """One id per governor and proposal number (Uniswap's v1 and v2 both have a #1)."""
    if governor_address:
        return f"{space}:{governor_address.lower()}:{pid}"
    return f"{space}:{pid}"


def to_governor_proposal(r: dict[str, Any], space: str | None = None) -> Proposal:
    """A governor proposal record as a Proposal, with its actions decoded."""
    sp = space_of(r["dao"], space)
    description = str(r.get("description") or "")
    created = _time(r.get("created_timestamp") or r.get("start"))
    state, outcome = _state(r)
    scores = _scores(r)
    extra: dict[str, Any] = {
        "dao": r["dao"],
        "governor": r.get("governor"),
        "governor_address": r.get("governor_address"),
        "proposal_id": str(r["proposal_id"]),
        "provenance": r.get("source"),
    }
    for key in ("start_block", "end_block", "created_tx", "ipfs_hash", "voter_counts"):
        if r.get(key) is not None:
            extra[key] = r[key]
    if r.get("targets"):
        extra |= actions_extra(decode_actions(_raw_actions(r)))
    links = [str(x) for x in r.get("vote_links") or []]
    return Proposal(
        source=SOURCE,
        space=sp,
        id=proposal_id(sp, r.get("governor_address"), r["proposal_id"]),
        title=_title(r, description),
        body=description,
        choices=list(CHOICES),
        type="basic",
        start=created,
        end=_end(r, created),
        state=state,
        author=r.get("proposer") or _authors(r.get("authors")),
        scores=scores,
        scores_total=sum(scores) if scores else None,
        scores_final=bool(scores),
        votes_count=sum(int(x) for x in (r.get("voter_counts") or {}).values()),
        discussion=r.get("discussion"),
        link=links[0] if links else None,
        links=links,
        created=created,
        outcome=outcome,
        extra=extra,
    )


def to_governor_vote(r: dict[str, Any], proposal_uid: str, space: str) -> Vote:
    support = str(r["support"]).strip().lower()
    if support not in SUPPORT_TO_CHOICE:
        raise ValueError(f"support: {r['support']!r} is not for, against or abstain")
    created = _time(r["timestamp"])
    if created is None:
        raise ValueError("timestamp: missing")
    tx = str(r.get("txhash") or "")
    return Vote(
        source=SOURCE,
        id=f"{tx}:{str(r['voter']).lower()}" if tx else f"{proposal_uid}:{r['voter']}",
        proposal_uid=proposal_uid,
        space=space,
        voter=str(r["voter"]),
        choice=SUPPORT_TO_CHOICE[support],
        voting_power=float(Decimal(str(r.get("votes_raw") or 0)).scaleb(-TOKEN_DECIMALS)),
        reason=str(r.get("reason") or ""),
        created=created,
        block=int(r["block_number"]) if r.get("block_number") is not None else None,
    )


def vote_proposal_uid(r: dict[str, Any], space: str | None = None) -> tuple[str, str]:
    """(uid of the proposal a vote record names, its space)."""
    sp = space_of(r["dao"], space)
    return f"{SOURCE}:{proposal_id(sp, r.get('governor_address'), r['proposal_id'])}", sp


def _raw_actions(r: dict[str, Any]) -> list[RawAction]:
    targets = list(r["targets"])
    values = r.get("values") or [0] * len(targets)
    signatures = r.get("signatures") or [""] * len(targets)
    calldatas = r.get("calldatas_hex") or ["0x"] * len(targets)
    return [
        RawAction(target=t, value=int(v or 0), signature=s or "", calldata=c or "0x")
        for t, v, s, c in zip(targets, values, signatures, calldatas, strict=True)
    ]


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).strip())
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _end(r: dict[str, Any], created: datetime | None) -> datetime | None:
    """When voting ended: stated, else the first lifecycle event or an estimate that errs late."""
    if r.get("end"):
        return _time(r["end"])
    events = [
        t
        for e in (r.get("lifecycle_events") or {}).values()
        if isinstance(e, dict) and (t := _time(e.get("timestamp")))
    ]
    estimate = None
    if created and r.get("start_block") is not None and r.get("end_block") is not None:
        blocks = max(0, int(r["end_block"]) - int(r["start_block"]))
        estimate = created + timedelta(seconds=blocks * SLOW_BLOCK_S)
    candidates = [t for t in [*events, estimate] if t is not None]
    return min(candidates) if candidates else None


def _state(r: dict[str, Any]) -> tuple[ProposalState, str | None]:
    derived = r.get("final_state_derived")
    if derived:
        if derived in _STATES:
            return _STATES[derived], derived
        return "defeated", "defeated or expired"
    published = r.get("status_as_published")
    if published:
        passed = str(r.get("outcome_label_derived") or published).lower() == "passed"
        return ("executed" if passed else "defeated"), str(published)
    votes = r.get("votes")
    if isinstance(votes, dict):
        f = Decimal(str(votes.get("for_vote_weightage") or 0))
        a = Decimal(str(votes.get("against_vote_weightage") or 0))
        return ("succeeded", "passed") if f > a else ("defeated", "defeated")
    return "closed", None


def _scores(r: dict[str, Any]) -> list[float]:
    totals = r.get("vote_totals_raw_units")
    votes = r.get("votes")
    if isinstance(totals, dict):
        raw = [totals.get("for"), totals.get("against"), totals.get("abstain")]
    elif isinstance(votes, dict):
        raw = [
            votes.get("for_vote_weightage"),
            votes.get("against_vote_weightage"),
            votes.get("abstain_vote_weightage"),
        ]
    else:
        return []
    return [float(Decimal(str(x or 0)).scaleb(-TOKEN_DECIMALS)) for x in raw]


def _title(r: dict[str, Any], description: str) -> str:
    title = str(r.get("title") or "").strip().lstrip("#").strip()
    if title:
        return title
    first = next((ln.strip("# ").strip() for ln in description.splitlines() if ln.strip()), "")
    return first[:200] or f"Proposal {r['proposal_id']}"


def _authors(value: Any) -> str | None:
    if isinstance(value, list):
        return ", ".join(map(str, value)) or None
    return str(value) if value else None
