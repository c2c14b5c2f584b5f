"""The hub client over real HTTP: retries, backoff, rate limits, errors, secrets."""

from __future__ import annotations

import pytest

from agent.errors import MalformedResponse, RateLimited, SourceError, SourceUnavailable
from connectors.ratelimit import RateLimiter
from connectors.snapshot import HubClient, queries
from connectors.snapshot.schema import RawProposal, parse
from tests.fakes.snapshot_hub import FakeHub

Q = "query { proposals(first: 5) { id title } }"


def _client(hub: FakeHub, sleeps: list[float], **kw) -> HubClient:
    # Generous (see tests/pipeline.py): only tests of hangs need a short one.
    kw.setdefault("timeout", 30.0)
    kw.setdefault("max_retries", 3)
    return HubClient(hub.url, sleep=sleeps.append, requests_per_minute=1000, **kw)


@pytest.mark.parametrize("kind", ["429", "500", "502", "garbage", "timeout", "graphql_error"])
def test_transient_failures_are_retried(fake_hub: FakeHub, kind: str) -> None:
    fake_hub.add_space("a.eth")
    fake_hub.add_proposal("a.eth", title="hello")
    sleeps: list[float] = []
    # The injected hang lasts 3 s, so only the hang test needs a client that gives up
    # sooner; 1.5 s leaves a loaded 2-core machine room to answer the good request.
    client = _client(fake_hub, sleeps, timeout=1.5 if kind == "timeout" else 30.0)
    fake_hub.fail_next(kind, 2)
    data = client.query(Q)
    assert data["proposals"][0]["title"] == "hello"
    assert client.retries == 2 and len(sleeps) == 2


def test_retry_after_is_honoured(fake_hub: FakeHub) -> None:
    sleeps: list[float] = []
    client = _client(fake_hub, sleeps)
    fake_hub.fail_next("429", retry_after=7)
    client.query(Q)
    assert sleeps[0] >= 7


def test_persistent_429_becomes_rate_limited(fake_hub: FakeHub) -> None:
    client = _client(fake_hub, [], max_retries=2)
    fake_hub.fail_next("429", 3)
    with pytest.raises(RateLimited, match="api_key"):
        client.query(Q)


def test_persistent_5xx_gives_up_with_a_clear_error(fake_hub: FakeHub) -> None:
    client = _client(fake_hub, [], max_retries=1)
    fake_hub.fail_next("500", 2)
    with pytest.raises(SourceUnavailable, match="failed 2 times: HTTP 500"):
        client.query(Q)


def test_query_errors_are_not_retried(fake_hub: FakeHub) -> None:
    client = _client(fake_hub, [])
    with pytest.raises(SourceError, match="must not be greater than 1000"):
        client.query("query { proposals(first: 5000) { id } }")
    assert client.retries == 0


def test_api_key_is_sent_but_never_shown(fake_hub: FakeHub) -> None:
    secret = "sk-very-secret-key"
    client = _client(fake_hub, [], api_key=secret, max_retries=0)
    client.query(Q)
    assert fake_hub.requests[-1]["headers"]["x-api-key"] == secret
    fake_hub.fail_next("500")
    with pytest.raises(SourceError) as info:
        client.query(Q)
    assert secret not in str(info.value) and secret not in repr(info.value)


def test_hub_rate_limit_is_respected_by_the_limiter() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    limiter = RateLimiter(3, 60, clock=lambda: now[0], sleep=sleep)
    for _ in range(7):
        limiter.acquire()
    assert slept and now[0] >= 120  # 7 requests at 3/min: two full windows waited


def test_real_hub_limit_with_key_skips_rate_limit() -> None:
    with FakeHub(requests_per_minute=2, api_key="k") as hub:
        keyed = _client(hub, [], api_key="k", max_retries=0)
        for _ in range(4):
            keyed.query(Q)
        anon = _client(hub, [], max_retries=0)
        anon.query(Q)
        anon.query(Q)
        with pytest.raises(RateLimited):
            anon.query(Q)


def test_parse_names_the_bad_field() -> None:
    good = {
        "id": "0x1",
        "author": "0xa",
        "created": 1,
        "space": {"id": "s"},
        "title": "t",
        "choices": ["a"],
        "start": 1,
        "end": 2,
        "state": "active",
    }
    bad = dict(good, created="yesterday")
    with pytest.raises(MalformedResponse, match=r"proposals\[1\]\.created"):
        parse({"proposals": [good, bad]}, "proposals", RawProposal, many=True)
    with pytest.raises(MalformedResponse, match="lacks `proposals`"):
        parse({}, "proposals", RawProposal, many=True)
    with pytest.raises(MalformedResponse, match="null"):
        parse({"proposals": None}, "proposals", RawProposal, many=True)


def test_our_queries_validate_against_the_hub_schema(fake_hub: FakeHub) -> None:
    fake_hub.add_space("a.eth")
    client = _client(fake_hub, [], max_retries=0)
    client.query(queries.SPACE, {"id": "a.eth"})
    client.query(queries.PROPOSALS_SINCE, {"space": "a.eth", "first": 1, "skip": 0, "since": 0})
    client.query(queries.PROPOSALS_BY_ID, {"ids": ["0x1"], "first": 1})
    client.query(queries.VOTES_OF_PROPOSALS, {"ids": ["0x1"], "first": 1, "skip": 0, "since": 0})
