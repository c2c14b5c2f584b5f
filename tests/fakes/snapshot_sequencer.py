"""A fake Snapshot sequencer: a real HTTP server on 127.0.0.1 checking votes like the real one.

Why a real server: the client's hard cases (a timeout after the request went out, a connection
dropped after the vote was recorded, 429 with Retry-After) only exist over a socket.

It follows snapshot-sequencer's ``ingestor`` and ``writer/vote`` in order: envelope shape,
size, timestamp window, domain, ``sha256(JSON.stringify(types))``, alias, EIP-712 signature,
duplicate id; then (when backed by a ``FakeHub``) space, proposal, voting window, choice,
voting power, and an earlier vote by the same voter. Refusals are HTTP 400
``{error: "client_error", error_description}`` with the real sequencer's wording. Accepted
votes answer ``{id, ipfs, relayer}`` (id = EIP-712 hash) and are added to the hub's votes.

Choice rules are written out again here from snapshot.js's ``isValidChoice`` rather than
imported from Steward, so a mistake in Steward's validation cannot hide itself.

Usage::

    with FakeHub() as hub, FakeSequencer(hub=hub) as seq:
        p = hub.add_proposal("s.eth", type="approval", start=now - 60)
        SequencerClient(seq.url).submit(envelope)
        seq.fail_next("drop_after_accept")   # record it, then hang up without answering
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, Literal

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import is_address, keccak, to_checksum_address

from .local_server import LocalHTTPServer, LocalServer, QuietHandler
from .snapshot_data import DAY, fake_hex
from .snapshot_hub import FakeHub

# sha256(JSON.stringify(types)) of snapshot.js 0.17.5's voteTypes / voteArrayTypes /
# voteStringTypes (string `from`, string `proposal`); tests check them against hashedTypes.json.
VOTE_TYPE_HASHES = {
    "fb8fa9816cd42974e7f1af671aa548c8c458553364ed809e45042f141de8c0d5": "vote",
    "5f95ed849bafb034c37e340dc06ad6fa6985d674714cb602a6bf11119ffba2a1": "vote-array",
    "afc5911fd9722b3dc5e8b16a552997510644a52d2b229c3868fb1910b112416e": "vote-string",
}
RELAYER = "0x8BBE4Ac64246d600BC2889ef5d83809D138F03DF"
HANG_SECONDS = 5.0
FailureKind = Literal["500", "502", "503", "429", "425", "hang", "drop_after_accept", "reject"]
Reply = tuple[int, dict[str, str], bytes]


class Refused(Exception):
    """One of the sequencer's string rejections (HTTP 400 ``client_error``)."""


def _reply(status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
    head = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    return status, head, json.dumps(payload).encode()


def _error(status: int, description: str, headers: dict[str, str] | None = None) -> Reply:
    kind = "client_error" if status < 500 else "server_error"
    return _reply(status, {"error": kind, "error_description": description}, headers)


def _stringify(value: Any) -> str:
    """JSON.stringify for the string-only ``types`` object (key order as received)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _index(value: Any, n: int) -> bool:
    """``proposalChoices[value - 1] !== undefined`` for a JSON number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return float(value).is_integer() and 1 <= value <= n


def _key_index(key: str, n: int) -> bool:
    """The same for an object key, through JS ``Number(key)``."""
    if "_" in key:
        return False
    try:
        return _index(float(key.strip() or "x"), n)
    except ValueError:
        return False


def valid_choice(kind: str, choice: Any, n: int) -> bool:
    """snapshot.js 0.17.5 ``voting[kind].isValidChoice(choice, choices)``."""
    if kind in ("single-choice", "basic"):
        return _index(choice, n)
    if kind in ("approval", "ranked-choice"):
        if not isinstance(choice, list) or not all(_index(c, n) for c in choice):
            return False
        unique = len({float(c) for c in choice}) == len(choice)
        return unique and (kind == "approval" or len(choice) == n > 0)
    if kind in ("weighted", "quadratic"):
        if not isinstance(choice, dict) or not choice:
            return False
        weights = list(choice.values())
        numbers = all(isinstance(w, int | float) and not isinstance(w, bool) for w in weights)
        return (
            all(_key_index(k, n) for k in choice)
            and numbers
            and all(w >= 0 for w in weights)
            and any(w > 0 for w in weights)
        )
    return False


def _kebab(text: str) -> str:
    """lodash ``kebabCase`` for the simple app names tests use."""
    words = re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", text)
    return "-".join(w.lower() for w in words)


class _Handler(QuietHandler):
    server: LocalServer[FakeSequencer]

    def do_POST(self) -> None:
        seq = self.server.fake
        raw = self.read_body()
        try:
            reply = seq._handle(self.path, raw)
        except Exception as exc:  # noqa: BLE001 - a bug in the fake must surface, not hang
            seq.server_errors.append(repr(exc))
            reply = _error(500, f"fake sequencer crashed: {exc!r}")
        if reply is None:  # hang, or dropped after accepting: close without any answer
            self.close_connection = True
            return
        self.write_reply(*reply)


class FakeSequencer(LocalHTTPServer):
    """In-process stand-in for seq.snapshot.org; ``accepted`` lists the votes it recorded."""

    handler = _Handler
    url_path = "/"

    def __init__(
        self,
        *,
        hub: FakeHub | None = None,
        now: Callable[[], float] | None = None,
        max_age: float = 6 * DAY,
        max_ahead: float = 300,
        voting_power: Callable[[str], float] = lambda _address: 1.0,
        aliases: Iterable[tuple[str, str]] = (),
    ) -> None:
        super().__init__()
        self.hub = hub
        self.now = now or (hub.now if hub is not None else time.time)
        self.max_age = max_age
        self.max_ahead = max_ahead
        self.voting_power = voting_power
        self.aliases = {(to_checksum_address(a), to_checksum_address(b)) for a, b in aliases}
        """(voter, alias) pairs: ``alias`` may sign votes ``from`` ``voter``."""
        self.accepted: list[dict[str, Any]] = []
        self.requests: list[Any] = []
        self.server_errors: list[str] = []
        self._lock = threading.Lock()
        self._failures: deque[tuple[FailureKind, float, str]] = deque()
        self._ids: set[str] = set()
        self._ingest_lock = threading.Lock()

    def fail_next(
        self, kind: FailureKind, times: int = 1, *, retry_after: float = 0, message: str = ""
    ) -> None:
        """Queue failures (FIFO), one per incoming request. ``reject`` answers 400 with
        ``message``; ``hang`` holds the connection then closes it unanswered (nothing
        recorded); ``drop_after_accept`` records the vote and closes unanswered."""
        if kind not in FailureKind.__args__:  # type: ignore[attr-defined]
            raise ValueError(f"unknown failure kind {kind!r}")
        with self._lock:
            self._failures.extend([(kind, retry_after, message)] * times)

    # ---------------------------------------------------------------- serving
    def _handle(self, path: str, raw: bytes) -> Reply | None:
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = None
        with self._lock:
            self.requests.append(body)
            failure = self._failures.popleft() if self._failures else None
        if path.split("?")[0] != "/":
            return _error(404, "not found")
        if failure is not None:
            kind, retry_after, message = failure
            canned = self._canned(kind, retry_after, message)
            if canned is not None or kind == "hang":
                return canned
        try:
            receipt = self.ingest(body)
        except Refused as exc:
            return _error(400, str(exc))
        if failure is not None:  # drop_after_accept
            return None
        return _reply(200, receipt)

    def _canned(self, kind: FailureKind, retry_after: float, message: str) -> Reply | None:
        if kind == "429":
            headers = {"Retry-After": f"{retry_after:g}"}
            return _error(429, "too many requests, refer to https://docs.snapshot.org", headers)
        if kind == "425":
            return _error(425, "request already being processed")
        if kind == "503":
            return _error(503, "update in progress, try later")
        if kind == "500":
            return _reply(500, {"error": "server_error", "error_description": {}})
        if kind == "502":
            return 502, {"Content-Type": "text/html"}, b"<html><body>502 Bad Gateway</body></html>"
        if kind == "reject":
            return _error(400, message or "failed to check voting power")
        if kind == "hang":
            self._stopping.wait(HANG_SECONDS)
        return None

    # ------------------------------------------------------------- verifying
    def ingest(self, body: Any) -> dict[str, Any]:
        """Check one envelope like the real ingestor; record it; return the receipt."""
        with self._ingest_lock:
            return self._ingest(body)

    def _ingest(self, body: Any) -> dict[str, Any]:
        data, message = self._check_envelope(body)
        if len(json.dumps(body, separators=(",", ":"), ensure_ascii=False)) > 100_000:
            raise Refused("too large message")
        now = self.now()
        ts = message["timestamp"]
        if ts > round(now + self.max_ahead) or ts < round(now - self.max_age):
            raise Refused("wrong timestamp")
        if data["domain"].get("name") != "snapshot" or data["domain"].get("version") != "0.1.4":
            raise Refused("wrong domain")
        types = {k: v for k, v in data["types"].items() if k != "EIP712Domain"}
        type_ = VOTE_TYPE_HASHES.get(hashlib.sha256(_stringify(types).encode()).hexdigest())
        if type_ is None:
            raise Refused("wrong types")
        if self.hub is not None and self.hub.data.space(message.get("space")) is None:
            raise Refused("unknown space")
        address = body["address"]
        if address != message["from"] and (message["from"], address) not in self.aliases:
            raise Refused("wrong alias")
        if not self._signed_by(address, body["sig"], data["domain"], types, message):
            raise Refused("signature validation failed")
        vote_id = self._hash(data["domain"], types, message)
        if vote_id in self._ids:
            raise Refused("duplicate message")
        vote = self._check_vote(type_, message, now)
        ipfs = "bafkrei" + fake_hex(f"ipfs-{vote_id}", 52)[2:]
        self._record(vote_id, ipfs, message, vote)
        receipt = "0x" + hashlib.sha256(f"receipt-{vote_id}".encode()).hexdigest() * 2
        return {"id": vote_id, "ipfs": ipfs, "relayer": {"address": RELAYER, "receipt": receipt}}

    @staticmethod
    def _check_envelope(body: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """snapshot-sequencer's envelope.json schema (no extra keys; addresses; a timestamp)."""
        if not isinstance(body, dict) or set(body) != {"address", "sig", "data"}:
            raise Refused("wrong envelope format")
        data = body["data"]
        keys = set(data) if isinstance(data, dict) else set()
        if (
            not {"domain", "message", "types"}
            <= keys
            <= {"domain", "message", "types", "primaryType"}
        ):
            raise Refused("wrong envelope format")
        message = data["message"]
        shapes = [
            isinstance(body["address"], str) and is_address(body["address"]),
            isinstance(body["sig"], str),
            isinstance(data["domain"], dict) and isinstance(data["types"], dict),
            isinstance(message, dict)
            and isinstance(message.get("from"), str)
            and is_address(message["from"])
            and isinstance(message.get("timestamp"), int | float)
            and not isinstance(message.get("timestamp"), bool),
        ]
        if not all(shapes):
            raise Refused("wrong envelope format")
        return data, message

    @staticmethod
    def _full(domain: Any, types: Any, message: Any) -> dict[str, Any]:
        domain_type = [{"name": k, "type": "string"} for k in domain]
        return {
            "types": {"EIP712Domain": domain_type, **types},
            "primaryType": "Vote",
            "domain": domain,
            "message": message,
        }

    def _signed_by(self, address: str, sig: str, domain: Any, types: Any, message: Any) -> bool:
        try:
            signable = encode_typed_data(full_message=self._full(domain, types, message))
            recovered = Account.recover_message(signable, signature=sig)
        except Exception:  # noqa: BLE001 - any malformed piece is a failed validation
            return False
        return str(recovered).lower() == address.lower()

    def _hash(self, domain: Any, types: Any, message: Any) -> str:
        s = encode_typed_data(full_message=self._full(domain, types, message))
        return "0x" + keccak(b"\x19" + s.version + s.header + s.body).hex()

    def _check_vote(self, type_: str, message: dict[str, Any], now: float) -> dict[str, Any]:
        """``writer/vote.verify``: format, proposal, window, choice, voting power."""
        metadata = str(message.get("metadata") or "")
        if len(metadata.encode("utf-16-le", "surrogatepass")) // 2 > 2000:
            raise Refused("too large metadata")
        choice: Any = message.get("choice")
        if type_ == "vote-string":
            try:
                choice = json.loads(choice)
            except (TypeError, ValueError):
                raise Refused("wrong vote format") from None
        reason, app = message.get("reason") or "", message.get("app") or ""
        if len(reason) > 5000 or len(_kebab(app)) > 24:
            raise Refused("wrong vote format")
        vp = float(self.voting_power(message["from"]))
        vote = {"choice": choice, "reason": reason, "app": _kebab(app), "vp": vp}
        if self.hub is None:
            return vote
        proposal = self.hub.data.proposal(message.get("proposal"))
        if proposal is None or proposal["space"] != message.get("space"):
            raise Refused("unknown proposal")
        ts, start, end = message["timestamp"], proposal["start"], proposal["end"]
        if ts > end or start > ts or now > end or start > now or proposal["state"] != "active":
            raise Refused("not in voting window")
        if not valid_choice(proposal["type"], choice, len(proposal["choices"])):
            raise Refused("invalid choice")
        if vp == 0:
            raise Refused("no voting power")
        return vote

    def _record(
        self, vote_id: str, ipfs: str, message: dict[str, Any], vote: dict[str, Any]
    ) -> None:
        """``writer/vote.action``: one vote per voter and proposal; a later one replaces it."""
        voter = str(to_checksum_address(message["from"]))
        created = int(message["timestamp"])
        with self._lock:
            previous = next(
                (
                    v
                    for v in reversed(self.accepted)
                    if v["voter"] == voter and v["proposal"] == message["proposal"]
                ),
                None,
            )
            if previous is not None and previous["created"] > created:
                raise Refused("already voted at later time")
            same_time = previous is not None and previous["created"] == created
            if same_time and vote_id <= previous["id"]:  # type: ignore[index]
                raise Refused("already voted same time with lower index")
            record = {
                "id": vote_id,
                "ipfs": ipfs,
                "voter": voter,
                "created": created,
                "space": message["space"],
                "proposal": message["proposal"],
                **vote,
            }
            self.accepted.append(record)
            self._ids.add(vote_id)
        if self.hub is None:
            return
        try:
            metadata = json.loads(message.get("metadata") or "{}")
        except ValueError:
            metadata = {}  # the sequencer's jsonParse(metadata, {})
        with self.hub.data.lock:
            old = [
                vid
                for vid, v in self.hub.data.votes.items()
                if v["voter"] == voter and v["proposal"] == message["proposal"]
            ]
            for vid in old:
                self.hub.data.remove_vote(vid)
            self.hub.add_vote(
                message["proposal"],
                voter=voter,
                choice=vote["choice"],
                vp=vote["vp"],
                created=created,
                reason=vote["reason"],
                id=vote_id,
                ipfs=ipfs,
                app=vote["app"],
                metadata=metadata,
            )

    def accepted_ids(self) -> list[str]:
        with self._lock:
            return [v["id"] for v in self.accepted]
