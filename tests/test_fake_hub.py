"""Tests of the fake Snapshot hub itself, so connector tests can trust it."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes import snapshot_hub
from tests.fakes.snapshot_data import DAY
from tests.fakes.snapshot_hub import FakeHub, load_ens_hub

ENS_JSONL = Path(__file__).resolve().parents[1] / "config" / "demo" / "ens-proposals.jsonl"
T0 = 1_700_000_000.0


class Clock:
    """Manually advanced clock so time-dependent behaviour is deterministic."""

    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def hub(clock: Clock) -> Iterator[FakeHub]:
    with FakeHub(now=clock) as h:
        yield h


CLIENT = httpx.Client(timeout=5)  # one client: building an SSL context per call is slow


def gql(
    hub: FakeHub, query: str, variables: dict[str, Any] | None = None, **kw: Any
) -> httpx.Response:
    return CLIENT.post(hub.url, json={"query": query, "variables": variables or {}}, **kw)


def ids(resp: httpx.Response, field: str = "proposals") -> list[str]:
    assert resp.status_code == 200, resp.text
    return [item["id"] for item in resp.json()["data"][field]]


def test_pagination_defaults_and_hub_limits(hub: FakeHub) -> None:
    made = [hub.add_proposal("ens.eth", created=int(T0) - i)["id"] for i in range(25)]
    assert ids(gql(hub, "{ proposals { id } }")) == made[:20]  # default first=20, created desc
    assert ids(gql(hub, "{ proposals(first: 20, skip: 20) { id } }")) == made[20:]
    for query, message in [
        ("{ proposals(first: 1001) { id } }", "The `first` argument must not be greater than 1000"),
        ("{ votes(skip: 5001) { id } }", "The `skip` argument must not be greater than 5000"),
    ]:
        resp = gql(hub, query)
        assert resp.status_code == 400
        assert resp.json()["errors"][0]["message"] == message
    resp = gql(
        hub,
        "query($ids: [String]) { proposals(where: {id_in: $ids}) { id } }",
        {"ids": [f"0x{i}" for i in range(101)]},
    )
    assert resp.status_code == 400 and "id_in" in resp.json()["errors"][0]["message"]
    assert gql(hub, "{ nope }").status_code == 400  # schema validation errors are 400 too


def test_where_filters_state_and_ordering(hub: FakeHub, clock: Clock) -> None:
    now = int(T0)
    closed = hub.add_proposal("ens.eth", id="0xc", created=now - 9 * DAY, author="0xa")
    active = hub.add_proposal("ens.eth", id="0xa", created=now - DAY, author="0xb")
    pending = hub.add_proposal("ens.eth", id="0xp", created=now - DAY, start=now + DAY)
    hub.add_proposal("other.eth", id="0xo", created=now - 2 * DAY)
    assert (closed["state"], active["state"], pending["state"]) == ("closed", "active", "pending")
    assert closed["scores_state"] == "final" and active["scores_state"] == "pending"
    q = "query($w: ProposalWhere, $o: String, $d: OrderDirection) "
    q += "{ proposals(where: $w, orderBy: $o, orderDirection: $d) { id state } }"
    assert ids(gql(hub, q, {"w": {"space": "ens.eth", "state": "active"}})) == ["0xa"]
    assert ids(gql(hub, q, {"w": {"state": "closed"}})) == ["0xc"]
    assert ids(gql(hub, q, {"w": {"state": "all", "space_in": ["other.eth"]}})) == ["0xo"]
    assert ids(gql(hub, q, {"w": {"author_in": ["0xa", "0xb"], "created_gte": now - DAY}})) == [
        "0xa"
    ]
    # same `created` -> tie broken by id ascending; unknown orderBy falls back to created
    assert ids(gql(hub, q, {"o": "title"})) == ["0xa", "0xp", "0xo", "0xc"]
    assert ids(gql(hub, q, {"o": "start", "d": "asc"})) == ["0xc", "0xo", "0xa", "0xp"]
    clock.t += 5 * DAY  # the clock drives state: the pending one opened, the others closed
    assert ids(gql(hub, q, {"w": {"state": "active"}})) == ["0xp"]


def test_votes_any_scalar_tally_edit_and_delete(hub: FakeHub, clock: Clock) -> None:
    p = hub.add_proposal("ens.eth", id="0x1")["id"]
    hub.add_vote(p, voter="0xv1", choice=1, vp=10)
    hub.add_vote(p, voter="0xv2", choice=2, vp=5, created=int(T0) + 1)
    q = (
        '{ proposal(id: "0x1") { votes scores scores_total updated title } '
        'votes(orderBy: "vp", orderDirection: asc, where: {vp_gte: 1}) '
        "{ voter choice vp space { id } proposal { id } } }"
    )
    data = gql(hub, q).json()["data"]
    assert data["proposal"]["votes"] == 2 and data["proposal"]["scores"] == [10.0, 5.0, 0.0]
    assert data["proposal"]["scores_total"] == 15.0 and data["proposal"]["updated"] is None
    assert [v["voter"] for v in data["votes"]] == ["0xv2", "0xv1"]
    assert data["votes"][0]["space"] == {"id": "ens.eth"}
    weighted = hub.add_proposal("ens.eth", id="0x2", type="weighted")["id"]
    hub.add_vote(weighted, choice={"1": 2, "3": 1}, vp=3)
    hub.add_vote(weighted, choice=[1, 3], vp=1)
    choices = gql(hub, '{ votes(where: {proposal: "0x2"}, orderBy: "vp") { choice } }')
    assert [v["choice"] for v in choices.json()["data"]["votes"]] == [{"1": 2, "3": 1}, [1, 3]]
    clock.t += 60
    hub.edit_proposal(p, title="Renamed")
    assert gql(hub, q).json()["data"]["proposal"]["updated"] == int(T0) + 60
    hub.delete_proposal(p)
    data = gql(hub, q).json()["data"]
    assert data["proposal"] is None
    assert {v["proposal"]["id"] for v in data["votes"]} == {"0x2"}


def test_depth_limit_is_400(hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    query = "query Q { votes { proposal { space { id } } } }"
    assert gql(hub, query).status_code == 200  # depth 3: fine at the hub's limit of 5
    # this schema subset can't nest deeper than 3, so lower the limit to exercise the check
    monkeypatch.setattr(snapshot_hub, "MAX_DEPTH", 2)
    resp = gql(hub, query)
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["message"] == "'Q' exceeds maximum operation depth of 2"


def test_rate_limit_sliding_window_and_api_key(clock: Clock) -> None:
    with FakeHub(requests_per_minute=2, api_key="k", now=clock) as hub:
        assert [gql(hub, "{ proposals { id } }").status_code for _ in range(2)] == [200, 200]
        clock.t += 30
        limited = gql(hub, "{ proposals { id } }")
        assert limited.status_code == 429 and limited.json() == {"error": "too many requests"}
        assert limited.headers["Retry-After"] == "30"
        keyed = CLIENT.post(
            hub.url, json={"query": '{ space(id: "x") { id } }'}, headers={"x-api-key": "k"}
        )
        assert keyed.status_code == 200
        assert hub.requests[-1]["headers"]["x-api-key"] == "k"
        clock.t += 30  # the first two requests leave the 60 s window
        assert gql(hub, "{ proposals { id } }").status_code == 200


def test_failure_injection_is_fifo_and_one_shot(hub: FakeHub) -> None:
    hub.add_proposal("ens.eth")
    hub.fail_next("429", retry_after=0.25)
    hub.fail_next("500")
    hub.fail_next("502")
    hub.fail_next("garbage")
    hub.fail_next("graphql_error")
    hub.fail_next("malformed", times=2)
    q = "{ proposals { id created choices } }"
    r = gql(hub, q)
    assert r.status_code == 429 and r.headers["Retry-After"] == "0.25"
    assert [gql(hub, q).status_code for _ in range(2)] == [500, 502]
    r = gql(hub, q)
    assert r.status_code == 200 and r.text == "<html>not json"
    assert gql(hub, q).json() == {"data": None, "errors": [{"message": "internal error"}]}
    bad = gql(hub, q).json()["data"]["proposals"][0]
    assert bad["created"] == "yesterday" and "choices" not in bad
    empty = gql(hub, '{ votes(where: {voter: "0xnobody"}) { id } }').json()["data"]["votes"]
    assert empty and not isinstance(empty[0]["id"], str)
    assert isinstance(gql(hub, q).json()["data"]["proposals"][0]["created"], int)
    assert len(hub.requests) == 8 and hub.requests[0]["query"] == q


def test_timeout_failure_and_concurrency(hub: FakeHub) -> None:
    for _ in range(30):
        hub.add_proposal("ens.eth")
    hub.fail_next("timeout")
    with pytest.raises(httpx.TimeoutException):
        gql(hub, "{ proposals { id } }", timeout=0.3)
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(
            pool.map(lambda i: gql(hub, f"{{ proposals(skip: {i}) {{ id }} }}"), range(64))
        )
    assert all(r.status_code == 200 for r in results)
    assert [len(r.json()["data"]["proposals"]) for r in results[:12:5]] == [20, 20, 20]
    assert hub.server_errors == []


def test_load_ens_hub(clock: Clock) -> None:
    with FakeHub(now=clock) as hub:
        props = load_ens_hub(hub, ENS_JSONL, votes_per_proposal=3, seed=7)
        assert len(props) == len(ENS_JSONL.read_text().splitlines())
        assert len({p["id"] for p in props}) == len(props)
        assert props[0]["id"].startswith("0xfe73d1b0")  # the real Snapshot id from the file
        assert all(p["created"] < clock() for p in props)
        assert sum(p["state"] == "active" for p in props) == 2
        assert all(p["votes"] == 3 and p["scores_total"] > 0 for p in props)
        resp = gql(hub, '{ proposals(first: 1000, where: {state: "closed"}) { id } }')
        assert len(ids(resp)) == len(props) - 2
    with FakeHub(now=clock) as again:
        assert load_ens_hub(again, ENS_JSONL, votes_per_proposal=3, seed=7) == props
