"""A fake Snapshot hub: a real HTTP server on 127.0.0.1 executing real GraphQL.

Why a real server instead of mocking httpx: the connector's retry, timeout, pagination and
error handling are exactly what we want to test, and those only show up over a socket.
It serves the real hub's own schema (`published/snapshot-hub-schema.gql`, verbatim from
snapshot-hub), so every answer is typed exactly as the real hub types it (`snapshot: Int`,
`vp: Float`, `choice: Any`). An answer its own data cannot give under that schema (a null
in a non-null field, a value of the wrong type) is a bug in the fake: it is answered with
HTTP 500 and recorded in `schema_violations`, never sent half-typed.

Usage::

    with FakeHub(requests_per_minute=60) as hub:
        hub.add_proposal("ens.eth", title="Fund the thing")
        httpx.post(hub.url, json={"query": "{ proposals { id title } }"})
"""

from __future__ import annotations

import ast
import json
import math
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    build_schema,
    graphql_sync,
    parse,
    validate,
)

from .local_server import LocalHTTPServer, LocalServer, QuietHandler
from .snapshot_data import DAY, HubData, HubError, fake_hex

SCHEMA_PATH = Path(__file__).parent / "published" / "snapshot-hub-schema.gql"
SCHEMA = build_schema(SCHEMA_PATH.read_text(encoding="utf-8"))
MAX_DEPTH = 5
TIMEOUT_SLEEP = 3.0  # "timeout" failures hold the connection this long, then close it
FailureKind = Literal["429", "500", "502", "garbage", "timeout", "malformed", "graphql_error"]
Reply = tuple[int, dict[str, str], bytes]

_HTML_ERROR = b"<html><head><title>%d</title></head><body>cloudflare: bad gateway</body></html>"


def _json(status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
    head = {"Content-Type": "application/json", **(headers or {})}
    return status, head, json.dumps(payload).encode()


def _errors(status: int, message: str) -> Reply:
    return _json(status, {"errors": [{"message": message}]})


def _depth(selection_set: SelectionSetNode | None, fragments: dict[str, Any], level: int) -> int:
    """Deepest field level, counted like graphql-depth-limit (top-level fields are 0,
    introspection fields ignored). Only called on validated documents, so no fragment cycles."""
    deepest = level - 1
    for sel in selection_set.selections if selection_set else ():
        if isinstance(sel, FieldNode):
            if sel.name.value.startswith("__"):
                continue
            deepest = max(deepest, level)
            if sel.selection_set:
                deepest = max(deepest, _depth(sel.selection_set, fragments, level + 1))
        elif isinstance(sel, FragmentSpreadNode) and sel.name.value in fragments:
            fragment = fragments[sel.name.value]
            deepest = max(deepest, _depth(fragment.selection_set, fragments, level))
        elif isinstance(sel, InlineFragmentNode):
            deepest = max(deepest, _depth(sel.selection_set, fragments, level))
    return deepest


def _check_depth(document: DocumentNode) -> str | None:
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    for op in document.definitions:
        if isinstance(op, OperationDefinitionNode) and _depth(op.selection_set, fragments, 0) > (
            MAX_DEPTH
        ):
            name = op.name.value if op.name else ""
            return f"'{name}' exceeds maximum operation depth of {MAX_DEPTH}"
    return None


def _perturb(data: dict[str, Any] | None) -> dict[str, Any]:
    """Break the first item the query returned the way flaky indexers do: wrong types,
    missing required keys. An empty result gets a bogus item appended instead."""
    data = dict(data or {})
    bogus = {"id": 12345, "created": "yesterday"}
    for value in data.values():
        items = value if isinstance(value, list) else [value]
        item = next((i for i in items if isinstance(i, dict)), None)
        if item is None:
            continue
        if "created" in item:
            item["created"] = "yesterday"
        if "choices" in item:
            del item["choices"]
        elif "created" not in item:
            item[next(iter(item))] = {"unexpected": "object"}
        return data
    if data:
        key = next(iter(data))
        data[key] = [bogus] if isinstance(data[key], list) or data[key] is None else bogus
    return data


class _Server(LocalServer["FakeHub"]):
    request_queue_size = 256


class _Handler(QuietHandler):
    server: _Server

    def do_POST(self) -> None:
        self._serve("POST")

    def do_GET(self) -> None:
        self._serve("GET")

    def _serve(self, method: str) -> None:
        hub = self.server.fake
        raw = self.read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            reply = hub._handle(method, self.path, headers, raw)
        except Exception as exc:  # noqa: BLE001 - a bug in the fake must surface, not hang
            hub.server_errors.append(repr(exc))
            reply = _errors(500, f"fake hub crashed: {exc!r}")
        if reply is None:  # injected timeout: hold the socket, then hang up without a reply
            hub._stopping.wait(TIMEOUT_SLEEP)
            self.close_connection = True
            return
        self.write_reply(*reply)


class FakeHub(LocalHTTPServer):
    """In-process stand-in for hub.snapshot.org with the real limits and failure modes."""

    handler = _Handler
    server_class = _Server
    url_path = "/graphql"

    def __init__(
        self,
        *,
        requests_per_minute: int | None = None,
        api_key: str | None = None,
        now: Callable[[], float] = time.time,
        max_first: int = 1000,
        max_skip: int = 5000,
    ) -> None:
        super().__init__()
        self.now = now
        self.requests_per_minute = requests_per_minute
        self.api_key = api_key
        self.data = HubData(now, max_first=max_first, max_skip=max_skip)
        self.requests: list[dict[str, Any]] = []
        self.server_errors: list[str] = []
        self.schema_violations: list[str] = []
        self._lock = threading.Lock()
        self._failures: deque[tuple[str, float]] = deque()
        self._hits: deque[float] = deque()
        d = self.data
        self._root: dict[str, Callable[..., Any]] = {
            "space": lambda _info, id=None: d.space(id),
            "spaces": lambda _info, **args: d.query("spaces", args),
            "proposal": lambda _info, id=None: self._gql_proposal(d.proposal(id)),
            "proposals": lambda _info, **args: [
                self._gql_proposal(p) for p in d.query("proposals", args)
            ],
            "vote": lambda _info, id=None: self._gql_vote(d.vote(id)),
            "votes": lambda _info, **args: [self._gql_vote(v) for v in d.query("votes", args)],
        }

    def __exit__(self, *exc: object) -> None:
        """Stop, then fail the test if the fake ever broke the published schema: a stand-in
        that drifts from its counterpart must not stay green."""
        super().__exit__(*exc)
        if self.schema_violations and exc[0] is None:
            raise AssertionError(f"the fake hub broke its schema: {self.schema_violations[:3]}")

    # ------------------------------------------------------------- test data
    def add_space(self, id: str, **fields: Any) -> dict[str, Any]:
        return self.data.add_space(id, **fields)

    def add_proposal(self, space: str, *, id: str | None = None, **fields: Any) -> dict[str, Any]:
        return self.data.add_proposal(space, id=id, **fields)

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
        return self.data.add_vote(
            proposal_id, voter=voter, choice=choice, vp=vp, created=created, reason=reason, **fields
        )

    def edit_proposal(self, id: str, **fields: Any) -> None:
        self.data.edit_proposal(id, **fields)

    def delete_proposal(self, id: str) -> None:
        self.data.delete_proposal(id)

    def fail_next(self, kind: FailureKind, times: int = 1, *, retry_after: float = 0) -> None:
        """Queue failures (FIFO); each one consumes exactly one incoming request."""
        if kind not in FailureKind.__args__:  # type: ignore[attr-defined]
            raise ValueError(f"unknown failure kind {kind!r}")
        with self._lock:
            self._failures.extend([(kind, retry_after)] * times)

    # ------------------------------------------------------------ GraphQL glue
    def _gql_proposal(self, p: dict[str, Any] | None) -> dict[str, Any] | None:
        if p is None:
            return None
        space_id = p["space"]
        return {**p, "space": lambda _info: self.data.space(space_id)}

    def _gql_vote(self, v: dict[str, Any] | None) -> dict[str, Any] | None:
        if v is None:
            return None
        space_id, proposal_id = v["space"], v["proposal"]
        return {
            **v,
            "space": lambda _info: self.data.space(space_id) or {"id": space_id},
            "proposal": lambda _info: self._gql_proposal(self.data.proposal(proposal_id)),
        }

    # ---------------------------------------------------------------- serving
    def _rate_limited(self, headers: dict[str, str]) -> Reply | None:
        """Sliding 60 s window on the injectable clock; a valid x-api-key bypasses it."""
        if self.requests_per_minute is None:
            return None
        if self.api_key is not None and headers.get("x-api-key") == self.api_key:
            return None
        with self._lock:
            now = self.now()
            while self._hits and self._hits[0] <= now - 60:
                self._hits.popleft()
            if len(self._hits) >= self.requests_per_minute:
                wait = max(1, math.ceil(self._hits[0] + 60 - now))
                return _json(429, {"error": "too many requests"}, {"Retry-After": str(wait)})
            self._hits.append(now)
        return None

    def _handle(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Reply | None:
        """Turn one HTTP request into (status, headers, body); None means "hang up"."""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        entry = dict(body) if isinstance(body, dict) else {"raw": raw.decode("utf-8", "replace")}
        entry["headers"] = headers
        with self._lock:
            self.requests.append(entry)
            failure = self._failures.popleft() if self._failures else None
        if path.split("?")[0].rstrip("/") != "/graphql":
            return _errors(404, "not found")
        if failure is not None:
            kind, retry_after = failure
            if kind == "429":
                ra = f"{retry_after:g}"
                return _json(429, {"error": "too many requests"}, {"Retry-After": ra})
            if kind in ("500", "502"):
                return int(kind), {"Content-Type": "text/html"}, _HTML_ERROR % int(kind)
            if kind == "garbage":
                return 200, {"Content-Type": "text/html"}, b"<html>not json"
            if kind == "timeout":
                return None
            if kind == "graphql_error":
                return _json(200, {"data": None, "errors": [{"message": "internal error"}]})
        limited = self._rate_limited(headers)
        if limited is not None:
            return limited
        if method != "POST":
            return _errors(405, "use POST with a JSON body")
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return _errors(400, "POST body must be JSON with a string `query`")
        status, payload = self.execute(
            body["query"], body.get("variables"), body.get("operationName")
        )
        if failure is not None and status == 200:  # kind == "malformed"
            payload = {"data": _perturb(payload.get("data"))}
        return _json(status, payload)

    def execute(
        self, query: str, variables: dict[str, Any] | None = None, operation: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Run a query like the hub: 400 for syntax/validation/depth/limit errors."""
        try:
            document = parse(query)
        except GraphQLError as err:
            return 400, {"errors": [err.formatted]}
        invalid = validate(SCHEMA, document)
        if invalid:
            return 400, {"errors": [e.formatted for e in invalid]}
        too_deep = _check_depth(document)
        if too_deep:
            return 400, {"errors": [{"message": too_deep}]}
        result = graphql_sync(
            SCHEMA,
            query,
            root_value=self._root,
            variable_values=variables,
            operation_name=operation,
        )
        errors = result.errors or []
        if any(isinstance(e.original_error, HubError) for e in errors):
            return 400, {"errors": [e.formatted for e in errors]}
        if errors:  # the fake's own data broke the published schema
            self.schema_violations.extend(f"{e.path}: {e.message}" for e in errors)
            return 500, {"errors": [{"message": f"fake hub broke the schema: {errors[0]}"}]}
        return 200, {"data": result.data}


def _author_address(authors: Any) -> str:
    """The JSONL stores authors as a Python-list string ("['nick']"); map the first to
    an address, since the hub's ``author`` is always an address."""
    names: Any = authors
    if isinstance(authors, str):
        try:
            names = ast.literal_eval(authors)
        except (ValueError, SyntaxError):
            names = [authors]
    first = names[0] if isinstance(names, list) and names else str(names or "anon")
    return fake_hex(f"author:{first}", 40)


def load_ens_hub(
    hub: FakeHub,
    path: str | Path,
    *,
    space: str = "ens.eth",
    votes_per_proposal: int = 0,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Fill ``hub`` from config/demo/ens-proposals.jsonl: one proposal per line, created one day
    apart and ending in the past (status "Active" stays open), plus seeded random votes."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    rng = random.Random(seed)
    now = int(hub.now())
    hub.add_space(space, name="ENS", symbol="ENS", network="1", verified=True)
    voters = [fake_hex(f"ens-voter-{i}", 40) for i in range(max(10, 3 * votes_per_proposal))]
    seen: set[str] = set()
    out = []
    for i, row in enumerate(rows):
        created = now - (len(rows) - i) * DAY
        active = str(row.get("status", "")).strip().lower() == "active"
        end = now + 5 * DAY if active else created + DAY // 2
        pid = row.get("snapshot") or ""
        if not pid or pid in seen:  # no Snapshot vote, or the same vote cited by two EPs
            pid = fake_hex(f"{space}:{row.get('ep')}:{i}")
        seen.add(pid)
        body = row.get("body") or ""
        forum = re.search(r"\[Forum\]\((https?://[^)\s]+)\)", body)
        hub.add_proposal(
            space,
            id=pid,
            title=row.get("title") or f"EP{row.get('ep')}",
            body=body,
            author=_author_address(row.get("authors")),
            created=created,
            start=created,
            end=end,
            choices=["For", "Against", "Abstain"],
            discussion=forum.group(1) if forum else "",
        )
        for voter in rng.sample(voters, min(votes_per_proposal, len(voters))):
            hub.add_vote(
                pid,
                voter=voter,
                choice=rng.choices([1, 2, 3], weights=[70, 20, 10])[0],
                vp=round(rng.paretovariate(1.2) * 100, 4),
                created=rng.randint(created, min(end, now) - 1),
            )
        out.append(hub.data.proposal(pid))
    return out
