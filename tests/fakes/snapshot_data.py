"""In-memory data store behind the fake Snapshot hub.

Kept apart from the HTTP/GraphQL layer so the filtering, ordering and pagination rules
(the part clients most often get wrong) live in one small, readable place. The rules
mirror snapshot-hub's ``buildWhereQuery``/``checkLimits``: null or empty filter values are
ignored, ties are broken by ``id`` ascending, unknown ``orderBy`` falls back to ``created``.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections.abc import Callable
from typing import Any

DAY = 86_400
DEFAULT_FIRST = 20
MAX_IN = 100
PROPOSAL_ORDER = ("created", "start", "end", "votes", "scores_total", "updated")
VOTE_ORDER = ("created", "vp")
STATES = ("pending", "active", "closed")
ENS_TOKEN = "0xC18360217D8F7Ab5e7c516566761Ea12Ce7F9D72"


class HubError(Exception):
    """A request the real hub rejects (limits exceeded); the server answers it with HTTP 400."""


def fake_hex(label: str, length: int = 64) -> str:
    """Deterministic hex id so test data is stable from run to run."""
    return "0x" + hashlib.sha256(label.encode()).hexdigest()[:length]


def _public(rec: dict[str, Any]) -> dict[str, Any]:
    """Copy a stored record without private bookkeeping keys; copy lists so callers can't mutate."""
    return {
        k: (list(v) if isinstance(v, list) else v) for k, v in rec.items() if not k.startswith("_")
    }


def _matches(row: dict[str, Any], where: dict[str, Any]) -> bool:
    """Apply a hub ``where`` object to one row (``state`` is handled by the caller)."""
    for key, value in where.items():
        if value is None or value == "" or key == "state":
            continue
        if key.endswith("_in"):
            if value and row.get(key[:-3]) not in value:
                return False
            continue
        field, _, op = key.rpartition("_")
        if op in ("gt", "gte", "lt", "lte") and field:
            have = row.get(field)
            if have is None:
                return False
            if not {
                "gt": have > value,
                "gte": have >= value,
                "lt": have < value,
                "lte": have <= value,
            }[op]:
                return False
        elif row.get(key) != value:
            return False
    return True


class HubData:
    """Spaces, proposals and votes, guarded by one re-entrant lock."""

    def __init__(self, now: Callable[[], float], max_first: int = 1000, max_skip: int = 5000):
        self.now = now
        self.max_first = max_first
        self.max_skip = max_skip
        self.lock = threading.RLock()
        self.spaces: dict[str, dict[str, Any]] = {}
        self.proposals: dict[str, dict[str, Any]] = {}
        self.votes: dict[str, dict[str, Any]] = {}
        self._counter = itertools.count(1)

    # ----------------------------------------------------------------- writes
    def add_space(self, id: str, **fields: Any) -> dict[str, Any]:
        """Create (or update) a space; every schema field gets a sensible default."""
        with self.lock:
            rec = self.spaces.get(id) or {
                "id": id,
                "name": id,
                "about": "",
                "network": "1",
                "symbol": "ENS",
                "admins": [],
                "moderators": [],
                "members": [],
                "private": False,
                "verified": False,
                "flagged": False,
                "hibernated": False,
                "turbo": False,
                "proposalsCount": 0,
                "votesCount": 0,
                "followersCount": 0,
                "domain": "",
                "website": "",
                "twitter": "",
                "github": "",
                "created": int(self.now()),
                "_seq": next(self._counter),
            }
            rec.update(fields)
            self.spaces[id] = rec
            return _public(rec)

    def add_proposal(self, space: str, *, id: str | None = None, **fields: Any) -> dict[str, Any]:
        """Create a proposal with hub-like defaults; ``state``/``scores_state`` are computed
        from the clock unless passed explicitly."""
        with self.lock:
            if space not in self.spaces:
                self.add_space(space)
            n = next(self._counter)
            pid = id or fake_hex(f"proposal-{n}")
            if pid in self.proposals:
                raise ValueError(f"proposal {pid} already exists")
            created = fields.pop("created", None)
            created = int(self.now() if created is None else created)
            start = int(fields.pop("start", created))
            choices = list(fields.pop("choices", ["For", "Against", "Abstain"]))
            rec: dict[str, Any] = {
                "id": pid,
                "ipfs": "bafkrei" + fake_hex(f"ipfs-{pid}", 52)[2:],
                "author": fake_hex(f"author-{n}", 40),
                "created": created,
                "updated": None,
                "space": space,
                "network": "1",
                "symbol": "ENS",
                "type": "single-choice",
                "strategies": [
                    {
                        "name": "erc20-votes",
                        "network": "1",
                        "params": {"symbol": "ENS", "address": ENS_TOKEN},
                    }
                ],
                "plugins": {},
                "title": f"Proposal {n}",
                "body": "",
                "discussion": "",
                "choices": choices,
                "labels": [],
                "start": start,
                "end": start + 5 * DAY,
                "quorum": 0.0,
                "quorumType": "default",
                "privacy": "",
                "snapshot": 18_000_000 + n,  # a block number: `Int` in the hub's schema
                "link": f"https://snapshot.org/#/{space}/proposal/{pid}",
                "app": "snapshot",
                "scores": [0.0] * len(choices),
                "scores_by_strategy": [[0.0] for _ in choices],
                "scores_total": 0.0,
                "scores_updated": created,
                "votes": 0,
                "flagged": False,
                "state": None,
                "scores_state": None,
                "_explicit": {k for k in ("state", "scores_state") if k in fields},
            }
            rec.update(fields)
            self.proposals[pid] = rec
            self.spaces[space]["proposalsCount"] += 1
            return self.proposal(pid) or {}

    def edit_proposal(self, id: str, **fields: Any) -> None:
        """Change fields the way an author edit does: ``updated`` moves to now."""
        with self.lock:
            rec = self.proposals[id]
            rec["_explicit"] |= {k for k in ("state", "scores_state") if k in fields}
            rec.update(fields)
            rec["updated"] = int(self.now())

    def delete_proposal(self, id: str) -> None:
        """Remove a proposal and its votes, as a hub-side delete does."""
        with self.lock:
            rec = self.proposals.pop(id)
            gone = [vid for vid, v in self.votes.items() if v["proposal"] == id]
            for vid in gone:
                del self.votes[vid]
            space = self.spaces.get(rec["space"])
            if space:
                space["proposalsCount"] -= 1
                space["votesCount"] -= len(gone)

    def add_vote(
        self,
        proposal_id: str,
        *,
        voter: str | None = None,
        choice: Any = 1,
        vp: float = 1.0,
        created: int | None = None,
        reason: str = "",
        **fields: Any,
    ) -> dict[str, Any]:
        """Record a vote and update the proposal's tally so scores stay consistent."""
        with self.lock:
            prop = self.proposals.get(proposal_id)
            if prop is None:
                raise KeyError(f"unknown proposal {proposal_id}")
            n = next(self._counter)
            vid = fields.pop("id", None) or fake_hex(f"vote-{n}")
            vote: dict[str, Any] = {
                "id": vid,
                "ipfs": "bafkrei" + fake_hex(f"ipfs-{vid}", 52)[2:],
                "voter": voter or fake_hex(f"voter-{n}", 40),
                "created": int(created if created is not None else self.now()),
                "space": prop["space"],
                "proposal": proposal_id,
                "choice": choice,
                "metadata": {},
                "reason": reason,
                "app": "snapshot",
                "vp": float(vp),
                "vp_by_strategy": [float(vp)],
                "vp_state": "final",
            }
            vote.update(fields)
            self.votes[vid] = vote
            self._tally(prop, choice, float(vp))
            space = self.spaces.get(prop["space"])
            if space:
                space["votesCount"] += 1
            return _public(vote)

    def remove_vote(self, vote_id: str) -> None:
        """Drop one vote and take it out of the tally, as the sequencer does when a voter
        replaces their vote (the fake sequencer then adds the new one with ``add_vote``)."""
        with self.lock:
            vote = self.votes.pop(vote_id)
            prop = self.proposals.get(vote["proposal"])
            if prop is not None:
                self._tally(prop, vote["choice"], -float(vote["vp"]))
                prop["votes"] -= 2  # _tally counted the removal as one more vote
            space = self.spaces.get(vote["space"])
            if space:
                space["votesCount"] -= 1

    @staticmethod
    def _tally(prop: dict[str, Any], choice: Any, vp: float) -> None:
        """Add ``vp`` to the scores: int choice (single-choice/basic), list (approval; first
        preference for ranked-choice) or dict (weighted/quadratic, split by weight)."""
        prop["votes"] += 1
        scores = prop["scores"]
        shares: dict[int, float] = {}
        if isinstance(choice, int) and not isinstance(choice, bool):
            shares = {choice: vp}
        elif isinstance(choice, list) and choice:
            picks = choice[:1] if prop.get("type") == "ranked-choice" else choice
            shares = {int(c): vp for c in picks}
        elif isinstance(choice, dict) and choice:
            total = sum(float(w) for w in choice.values()) or 1.0
            shares = {int(c): vp * float(w) / total for c, w in choice.items()}
        if not shares or not all(1 <= c <= len(scores) for c in shares):
            return
        for c, amount in shares.items():
            scores[c - 1] += amount
            by_strategy = prop.get("scores_by_strategy")
            if isinstance(by_strategy, list) and len(by_strategy) >= c and by_strategy[c - 1]:
                by_strategy[c - 1][0] += amount
        prop["scores_total"] = float(prop.get("scores_total") or 0.0) + vp

    # ------------------------------------------------------------------ reads
    def state_of(self, rec: dict[str, Any], now: float) -> str:
        """pending before start, active from start until end, closed from end on."""
        if "state" in rec["_explicit"]:
            return rec["state"]
        if now < rec["start"]:
            return "pending"
        return "active" if now < rec["end"] else "closed"

    def proposal(self, id: str | None) -> dict[str, Any] | None:
        """Public copy of one proposal (``space`` is the space id), or None."""
        with self.lock:
            rec = self.proposals.get(id or "")
            return None if rec is None else self._proposal_view(rec, self.now())

    def _proposal_view(self, rec: dict[str, Any], now: float) -> dict[str, Any]:
        view = _public(rec)
        view["state"] = self.state_of(rec, now)
        if "scores_state" not in rec["_explicit"]:
            view["scores_state"] = "final" if view["state"] == "closed" else "pending"
        return view

    def space(self, id: str | None) -> dict[str, Any] | None:
        with self.lock:
            rec = self.spaces.get(id or "")
            return None if rec is None else _public(rec)

    def vote(self, id: str | None) -> dict[str, Any] | None:
        with self.lock:
            rec = self.votes.get(id or "")
            if rec is None or rec["proposal"] not in self.proposals:
                return None
            return _public(rec)

    def check_limits(self, args: dict[str, Any]) -> None:
        """The hub's ``checkLimits``: first/skip caps and at most 100 items per ``*_in``."""
        for key, limit in (("first", self.max_first), ("skip", self.max_skip)):
            if (args.get(key) or 0) > limit:
                raise HubError(f"The `{key}` argument must not be greater than {limit}")
        for key, value in (args.get("where") or {}).items():
            if key.endswith("_in") and value is not None and len(value) > MAX_IN:
                raise HubError(f"The `{key}` argument must not be greater than {MAX_IN}")

    def query(self, kind: str, args: dict[str, Any]) -> list[dict[str, Any]]:
        """List ``spaces``/``proposals``/``votes`` with the hub's where/order/paging rules."""
        self.check_limits(args)
        where = dict(args.get("where") or {})
        first = max(args.get("first") if args.get("first") is not None else DEFAULT_FIRST, 0)
        skip = max(args.get("skip") or 0, 0)
        order_by = args.get("orderBy") or ""
        with self.lock:
            now = self.now()
            if kind == "spaces":
                rows = [r for r in self.spaces.values() if _matches(r, where)]
                order_key = "id" if order_by == "id" else "_seq"
            elif kind == "proposals":
                rows = [self._proposal_view(r, now) for r in self.proposals.values()]
                state = where.get("state")
                rows = [
                    r
                    for r in rows
                    if _matches(r, where) and (state not in STATES or r["state"] == state)
                ]
                order_key = order_by if order_by in PROPOSAL_ORDER else "created"
            else:
                rows = [
                    r
                    for r in self.votes.values()
                    if r["proposal"] in self.proposals and _matches(r, where)
                ]
                order_key = order_by if order_by in VOTE_ORDER else "created"
            rows.sort(key=lambda r: r["id"])
            rows.sort(
                key=lambda r: (r.get(order_key) is not None, r.get(order_key) or 0),
                reverse=args.get("orderDirection", "desc") != "asc",
            )
            return [_public(r) for r in rows[skip : skip + first]]
