"""Sending votes to the (fake, local) sequencer: outcomes, retries, reconciliation, secrets."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from eth_account import Account

from agent.errors import (
    OutcomeUnknown,
    SequencerUnavailable,
    VoteAlreadyRecorded,
    VoteError,
    VoteRejected,
)
from connectors.snapshot.client import HubClient
from connectors.snapshot.reconcile import fetch_cast_vote, landed_vote
from connectors.snapshot.sequencer import SequencerClient, VoteReceipt
from connectors.snapshot.vote_signing import (
    SUPPORTED_TYPES,
    VoteEnvelope,
    VoteRequest,
    build_vote,
    sign_vote,
)
from tests.fakes.snapshot_data import DAY
from tests.fakes.snapshot_hub import FakeHub
from tests.fakes.snapshot_sequencer import FakeSequencer
from tests.voting.test_snapshot_signing import KEYS, SECRETS, assert_no_secret

SPACE = "steward-test.eth"
ACCOUNT = Account.from_key(KEYS["anvil0"])
OTHER = Account.from_key(KEYS["anvil1"])
CHOICE: dict[str, Any] = {
    "single-choice": 2,
    "basic": 1,
    "approval": [1, 3],
    "ranked-choice": [3, 1, 2],
    "weighted": {1: 2, 3: 0.5},
    "quadratic": {2: 4},
}


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    with FakeHub() as hub:
        hub.add_space(SPACE)
        yield hub


@pytest.fixture
def seq(hub: FakeHub) -> Iterator[FakeSequencer]:
    with FakeSequencer(hub=hub) as seq:
        yield seq


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(seq: FakeSequencer, sleeps: list[float]) -> Iterator[SequencerClient]:
    # Generous: a client that gives up on a slow answer turns an injected outcome into
    # OutcomeUnknown under load. Tests of hangs build their own quick clients.
    with SequencerClient(seq.url, timeout=30.0, max_attempts=3, sleep=sleeps.append) as c:
        yield c


@pytest.fixture
def hub_client(hub: FakeHub) -> Iterator[HubClient]:
    c = HubClient(hub.url, timeout=30.0, requests_per_minute=10_000, sleep=lambda _s: None)
    yield c
    c.close()


def proposal(hub: FakeHub, kind: str = "single-choice", **fields: Any) -> str:
    fields.setdefault("start", int(time.time()) - 3600)
    fields.setdefault("choices", ["A", "B", "C"])
    return str(hub.add_proposal(SPACE, type=kind, **fields)["id"])


def envelope(
    pid: str, kind: str = "single-choice", signer: Any = ACCOUNT, **kw: Any
) -> VoteEnvelope:
    kw.setdefault("choice", CHOICE[kind])
    request = VoteRequest(space=SPACE, proposal=pid, proposal_type=kind, choices_count=3, **kw)
    return sign_vote(request, signer)


@pytest.mark.parametrize("kind", SUPPORTED_TYPES)
def test_every_vote_type_is_accepted_and_shows_on_the_hub(
    hub: FakeHub, seq: FakeSequencer, client: SequencerClient, hub_client: HubClient, kind: str
) -> None:
    pid = proposal(hub, kind)
    env = envelope(pid, kind, reason="per policy §3 ✓")
    receipt = client.submit(env)
    assert isinstance(receipt, VoteReceipt)
    assert receipt.id == env.vote_id and receipt.ipfs.startswith("bafkrei")
    assert seq.accepted_ids() == [env.vote_id]
    cast = fetch_cast_vote(hub_client, proposal=pid, voter=ACCOUNT.address.lower())
    assert cast is not None and cast.id == env.vote_id
    assert cast.voter == ACCOUNT.address and cast.reason == "per policy §3 ✓"
    expected = CHOICE[kind]
    if isinstance(expected, dict):
        expected = {str(k): v for k, v in expected.items()}
    assert cast.choice == expected
    assert landed_vote(hub_client, env) == cast
    assert_no_secret(receipt, cast)


def test_has_voted_is_none_before_voting(hub: FakeHub, hub_client: HubClient) -> None:
    pid = proposal(hub)
    hub.add_vote(pid, voter=OTHER.address)
    assert fetch_cast_vote(hub_client, proposal=pid, voter=ACCOUNT.address) is None
    assert landed_vote(hub_client, envelope(pid)) is None


def _rejected(client: SequencerClient, env: VoteEnvelope) -> VoteRejected:
    with pytest.raises(VoteRejected) as info:
        client.submit(env)
    assert client.attempts == 1  # final answers are never retried
    return info.value


def test_tampered_signature_is_rejected(hub: FakeHub, seq: FakeSequencer, client: SequencerClient):
    env = envelope(proposal(hub))
    flipped = env.sig[:10] + ("0" if env.sig[10] != "0" else "1") + env.sig[11:]
    error = _rejected(client, env.model_copy(update={"sig": flipped}))
    assert error.kind == "signature" and error.description == "signature validation failed"
    assert error.status == 400 and seq.accepted == []


def test_tampered_message_is_rejected(hub: FakeHub, client: SequencerClient) -> None:
    env = envelope(proposal(hub))
    message = env.data.message.model_copy(update={"choice": 3})
    forged = env.model_copy(update={"data": env.data.model_copy(update={"message": message})})
    assert _rejected(client, forged).kind == "signature"


@pytest.mark.parametrize("offset", [-7 * DAY, 10 * 60])
def test_stale_or_future_timestamp_is_rejected(
    hub: FakeHub, client: SequencerClient, offset: int
) -> None:
    pid = proposal(hub, start=int(time.time()) - 8 * DAY, end=int(time.time()) + DAY)
    env = envelope(pid, timestamp=int(time.time()) + offset)
    error = _rejected(client, env)
    assert error.kind == "timestamp" and "wrong timestamp" in str(error)


def test_timestamp_inside_the_window_is_accepted(hub: FakeHub, client: SequencerClient) -> None:
    pid = proposal(hub, start=int(time.time()) - 8 * DAY, end=int(time.time()) + DAY)
    client.submit(envelope(pid, timestamp=int(time.time()) - 5 * DAY))
    client.submit(envelope(pid, signer=OTHER, timestamp=int(time.time()) + 60))


def test_state_and_choice_rules_are_enforced(hub: FakeHub, client: SequencerClient) -> None:
    closed = proposal(hub, start=int(time.time()) - 3 * DAY, end=int(time.time()) - 60)
    assert _rejected(client, envelope(closed)).kind == "voting_window"
    two = proposal(hub, choices=["Yes", "No"])  # Steward thinks 3: the sequencer knows better
    client.attempts = 0
    assert _rejected(client, envelope(two, choice=3)).kind == "choice"
    client.attempts = 0
    assert _rejected(client, envelope("0xnope")).kind == "unknown_proposal"


def test_wrong_types_are_rejected(hub: FakeHub, client: SequencerClient) -> None:
    pid = proposal(hub)
    request = VoteRequest(
        space=SPACE, proposal=pid, proposal_type="basic", choices_count=3, choice=1
    )
    data = build_vote(request, address=ACCOUNT.address)
    fields = [dict(f, type="address") if f["name"] == "from" else f for f in data.types["Vote"]]
    legacy = data.model_copy(update={"types": {"Vote": fields}})
    sig = "0x" + bytes(ACCOUNT.sign_message(legacy.signable()).signature).hex()
    error = _rejected(client, VoteEnvelope(address=ACCOUNT.address, sig=sig, data=legacy))
    assert error.kind == "envelope" and error.description == "wrong types"


def test_no_voting_power(hub: FakeHub, sleeps: list[float]) -> None:
    with (
        FakeSequencer(hub=hub, voting_power=lambda _a: 0.0) as seq,
        SequencerClient(seq.url, timeout=30.0, sleep=sleeps.append) as client,
    ):
        assert _rejected(client, envelope(proposal(hub))).kind == "no_voting_power"


def test_alias_signs_for_a_voter(hub: FakeHub) -> None:
    pid = proposal(hub)
    env = envelope(pid, signer=OTHER, voter=ACCOUNT.address)
    with FakeSequencer(hub=hub) as seq, SequencerClient(seq.url, timeout=30.0) as client:
        assert _rejected(client, env).kind == "alias"
    with (
        FakeSequencer(hub=hub, aliases=[(ACCOUNT.address, OTHER.address)]) as seq,
        SequencerClient(seq.url, timeout=30.0) as client,
    ):
        client.submit(env)
        assert seq.accepted[0]["voter"] == ACCOUNT.address


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("failed to check voting power", "voting_power_check_failed"),
        ("not in voting window", "voting_window"),
        ("proposal is closed", "voting_window"),
        ("invalid timestamp", "timestamp"),
        ("something new and strange", "other"),
    ],
)
def test_final_errors_are_not_retried(
    hub: FakeHub,
    seq: FakeSequencer,
    client: SequencerClient,
    sleeps: list[float],
    message: str,
    kind: str,
) -> None:
    seq.fail_next("reject", message=message)
    error = _rejected(client, envelope(proposal(hub)))
    assert (error.kind, error.description) == (kind, message)
    assert sleeps == [] and seq.accepted == []


@pytest.mark.parametrize("kind", ["500", "502", "503", "429"])
def test_retryable_errors_are_retried_with_the_same_envelope(
    hub: FakeHub, seq: FakeSequencer, client: SequencerClient, sleeps: list[float], kind: str
) -> None:
    seq.fail_next(kind, 2)  # type: ignore[arg-type]
    env = envelope(proposal(hub))
    assert client.submit(env).id == env.vote_id
    assert client.attempts == 3 and len(sleeps) == 2
    assert all(r == env.payload() for r in seq.requests)


def test_retry_after_is_honoured(
    hub: FakeHub, seq: FakeSequencer, client: SequencerClient, sleeps: list[float]
) -> None:
    seq.fail_next("429", retry_after=7)
    client.submit(envelope(proposal(hub)))
    assert sleeps[0] >= 7


def test_failures_before_processing_end_as_unavailable(
    hub: FakeHub, seq: FakeSequencer, client: SequencerClient
) -> None:
    seq.fail_next("429", 3, retry_after=11)
    with pytest.raises(SequencerUnavailable) as info:
        client.submit(envelope(proposal(hub)))
    assert info.value.retry_after == 11 and client.attempts == 3 and seq.accepted == []


def test_unreachable_sequencer_is_unavailable(sleeps: list[float]) -> None:
    with FakeSequencer() as seq:
        url = seq.url
    client = SequencerClient(url, timeout=0.5, max_attempts=2, sleep=sleeps.append)
    with pytest.raises(SequencerUnavailable, match="could not connect"):
        client.submit(envelope("0x01"))
    assert client.attempts == 2 and len(sleeps) == 1


def test_repeated_5xx_ends_as_outcome_unknown(
    hub: FakeHub, seq: FakeSequencer, client: SequencerClient
) -> None:
    seq.fail_next("502", 3)
    env = envelope(proposal(hub))
    with pytest.raises(OutcomeUnknown) as info:
        client.submit(env)
    assert info.value.vote_id == env.vote_id


def test_hang_is_outcome_unknown_and_not_resent(
    hub: FakeHub, seq: FakeSequencer, sleeps: list[float], hub_client: HubClient
) -> None:
    env = envelope(proposal(hub))
    seq.fail_next("hang")
    client = SequencerClient(seq.url, timeout=0.3, sleep=sleeps.append)
    with pytest.raises(OutcomeUnknown, match="check the hub") as info:
        client.submit(env)
    assert client.attempts == 1 and sleeps == []
    assert info.value.vote_id == env.vote_id
    # Reconcile: the hub has no such vote, so the same envelope may go again.
    assert landed_vote(hub_client, env) is None
    assert client.submit(env).id == env.vote_id
    assert landed_vote(hub_client, env) is not None


def test_dropped_after_accept_reconciles_as_landed(
    hub: FakeHub, seq: FakeSequencer, client: SequencerClient, hub_client: HubClient
) -> None:
    env = envelope(proposal(hub, "approval"), "approval")
    seq.fail_next("drop_after_accept")
    with pytest.raises(OutcomeUnknown):
        client.submit(env)
    assert client.attempts == 1
    cast = landed_vote(hub_client, env)
    assert cast is not None and cast.choice == [1, 3]
    # Sending it again anyway is harmless: the sequencer knows this exact vote.
    with pytest.raises(VoteAlreadyRecorded) as info:
        client.submit(env)
    assert info.value.vote_id == env.vote_id and len(seq.accepted) == 1


def test_busy_identical_request_is_outcome_unknown(
    hub: FakeHub, seq: FakeSequencer, client: SequencerClient
) -> None:
    seq.fail_next("425")
    with pytest.raises(OutcomeUnknown, match="still processing"):
        client.submit(envelope(proposal(hub)))
    assert client.attempts == 1


def test_a_later_vote_replaces_an_earlier_one(
    hub: FakeHub, client: SequencerClient, hub_client: HubClient
) -> None:
    pid = proposal(hub)
    now = int(time.time())
    first = envelope(pid, choice=1, timestamp=now - 10)
    second = envelope(pid, choice=2, timestamp=now)
    client.submit(first)
    client.submit(second)
    cast = fetch_cast_vote(hub_client, proposal=pid, voter=ACCOUNT.address)
    assert cast is not None and cast.id == second.vote_id and cast.choice == 2
    assert landed_vote(hub_client, first) is None
    older = envelope(pid, choice=3, timestamp=now - 20)
    client.attempts = 0
    assert _rejected(client, older).kind == "superseded"
    assert [v["votes"] for v in hub.data.query("proposals", {"where": {"id": pid}})] == [1]


def test_unreadable_success_is_outcome_unknown() -> None:
    transport = httpx.MockTransport(lambda _r: httpx.Response(200, text="<html>ok</html>"))
    client = SequencerClient("http://127.0.0.1:9/", transport=transport)
    with pytest.raises(OutcomeUnknown, match="cannot read"):
        client.submit(envelope("0x01"))


def test_no_secret_in_errors_results_or_logs(
    hub: FakeHub,
    seq: FakeSequencer,
    client: SequencerClient,
    hub_client: HubClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    pid = proposal(hub)
    seen: list[object] = []
    seq.fail_next("500")
    seq.fail_next("drop_after_accept")
    for _ in range(2):
        try:
            seen.append(client.submit(envelope(pid)))
        except VoteError as exc:
            seen.append(exc)
    seq.fail_next("reject", message="no voting power")
    with pytest.raises(VoteRejected) as info:
        client.submit(envelope(pid, signer=OTHER))
    seq.fail_next("hang")
    with SequencerClient(seq.url, timeout=0.2) as quick, pytest.raises(OutcomeUnknown) as unknown:
        quick.submit(envelope(pid, signer=OTHER, choice=3))
    seen += [
        info.value,
        unknown.value,
        fetch_cast_vote(hub_client, proposal=pid, voter=ACCOUNT.address),
    ]
    assert_no_secret(*seen)
    assert caplog.records
    assert all(secret not in caplog.text.lower() for secret in SECRETS)
    assert all(secret not in repr(client.__dict__).lower() for secret in SECRETS)
