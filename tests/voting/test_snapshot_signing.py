"""Vote typed data and signatures, byte for byte against snapshot.js 0.17.5's own output."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.datastructures import SignedMessage
from eth_account.messages import SignableMessage

from agent.errors import InvalidVote, SigningFailed
from agent.models import Proposal, ProposalExtra
from connectors.snapshot.vote_signing import (
    CHOICE_TYPE,
    SUPPORTED_TYPES,
    VoteEnvelope,
    VoteRequest,
    build_vote,
    js_number,
    js_stringify,
    recover_signer,
    sign_vote,
    types_hash,
    vote_types,
)
from tests.fakes.snapshot_sequencer import VOTE_TYPE_HASHES

VECTORS_DIR = Path(__file__).resolve().parent.parent / "vectors" / "snapshot"
VECTORS = json.loads((VECTORS_DIR / "vectors.json").read_text(encoding="utf-8"))
# Public anvil/hardhat dev keys (accounts 0 and 1): test-only, known to everyone.
KEYS = {
    "anvil0": "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "anvil1": "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
}
SECRETS = [k[2:] for k in KEYS.values()]


def assert_no_secret(*things: object) -> None:
    """Neither key's hex may appear in the str/repr of anything (or its attributes)."""
    for thing in things:
        texts = [str(thing), repr(thing)]
        texts += [repr(v) for v in getattr(thing, "__dict__", {}).values()]
        for text in texts:
            for secret in SECRETS:
                assert secret not in text.lower()


def request_from(vector: dict[str, Any]) -> VoteRequest:
    i = vector["input"]
    pairs = i["choice_pairs"]
    choice = {int(k): w for k, w in pairs} if pairs is not None else i["choice"]
    optional = {k: i[k] for k in ("reason", "app", "metadata") if i[k] is not None}
    return VoteRequest(
        space=i["space"],
        proposal=i["proposal"],
        proposal_type=i["type"],
        choices_count=i["choices_count"],
        choice=choice,
        timestamp=i["timestamp"],
        voter=i["from"],
        **optional,
    )


class LowercaseAccount:
    """A signer that reports its address in lowercase (snapshot.js checksums it)."""

    def __init__(self, key: str) -> None:
        self._account = Account.from_key(key)

    @property
    def address(self) -> str:
        return self._account.address.lower()

    def sign_message(self, signable_message: SignableMessage) -> SignedMessage:
        return self._account.sign_message(signable_message)


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_matches_snapshot_js_byte_for_byte(vector: dict[str, Any]) -> None:
    i = vector["input"]
    signer = (LowercaseAccount if i["address"].islower() else Account.from_key)(KEYS[i["signer"]])
    envelope = sign_vote(request_from(vector), signer)
    assert envelope.payload() == vector["envelope"]
    assert envelope.sig == vector["envelope"]["sig"]
    assert list(envelope.payload()["data"]["message"]) == [
        f["name"] for f in vote_types("uint32")["Vote"]
    ]
    assert envelope.vote_id == vector["id"]
    types = envelope.payload()["data"]["types"]
    assert js_stringify(types) == vector["types_json"]
    assert types_hash(types) == vector["types_hash"]
    assert "EIP712Domain" not in types and "chainId" not in envelope.data.domain


def test_vectors_cover_every_type_and_pinned_versions() -> None:
    assert VECTORS["snapshot_js"] == "0.17.5"
    assert {v["input"]["type"] for v in VECTORS["vectors"]} == set(SUPPORTED_TYPES)
    package = json.loads((VECTORS_DIR / "package.json").read_text())
    lock = json.loads((VECTORS_DIR / "package-lock.json").read_text())["packages"]
    for name, version in package["dependencies"].items():
        assert version[0].isdigit(), f"{name} must be pinned exactly"
        assert lock[f"node_modules/{name}"]["version"] == version
    assert VECTORS["signers"] == {k: Account.from_key(v).address for k, v in KEYS.items()}


def test_vote_type_hashes_are_snapshot_js_known_ones() -> None:
    known = VECTORS["known_vote_type_hashes"]
    ours = {types_hash(vote_types(t)) for t in ("uint32", "uint32[]", "string")}
    assert ours == set(VOTE_TYPE_HASHES)
    assert all(h in known for h in ours)
    assert {known[h] for h in ours} == {"vote", "vote-array", "vote-string"}


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (100.0, "100"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (123456789012345680000.0, "123456789012345680000"),
        (1e-7, "1e-7"),
        (0.000001, "0.000001"),
        (1.23e-18, "1.23e-18"),
        (-2.5, "-2.5"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (2**53 - 1, "9007199254740991"),
    ],
)
def test_js_number_matches_ecmascript(value: float, text: str) -> None:
    assert js_number(value) == text


def test_js_stringify_orders_keys_like_javascript() -> None:
    value = {"b": 1, 10: [1, 2.5], "a": 'ü\n"', 2: None, "01": True}
    assert js_stringify(value) == '{"2":null,"10":[1,2.5],"b":1,"a":"ü\\n\\"","01":true}'
    with pytest.raises(ValueError):
        js_number(math.inf)


@pytest.mark.parametrize("kind", SUPPORTED_TYPES)
def test_every_type_builds_its_vote_type(kind: str) -> None:
    choice: Any = {
        "single-choice": 2,
        "basic": 3,
        "approval": [3, 1],
        "ranked-choice": [2, 3, 1],
        "weighted": {2: 1, 1: 3},
        "quadratic": {3: 0.5},
    }[kind]
    request = VoteRequest(
        space="s.eth", proposal="0x01", proposal_type=kind, choices_count=3, choice=choice
    )
    data = build_vote(request, address=Account.from_key(KEYS["anvil0"]).address, now=lambda: 1e9)
    fields = {f["name"]: f["type"] for f in data.types["Vote"]}
    assert fields["choice"] == CHOICE_TYPE[kind]
    message = data.message
    assert message.timestamp == 1_000_000_000 and message.metadata == "{}"
    assert message.reason == "" and message.app == ""
    if CHOICE_TYPE[kind] == "string":
        assert message.choice == js_stringify(choice)
    else:
        assert message.choice == choice


class SpySigner:
    """Records whether anything was signed."""

    def __init__(self) -> None:
        self._account = Account.from_key(KEYS["anvil0"])
        self.calls = 0

    @property
    def address(self) -> str:
        return self._account.address

    def sign_message(self, signable_message: SignableMessage) -> SignedMessage:
        self.calls += 1
        return self._account.sign_message(signable_message)


@pytest.mark.parametrize(
    ("kind", "choice", "extra"),
    [
        ("single-choice", 0, {}),
        ("single-choice", 4, {}),
        ("single-choice", True, {}),
        ("single-choice", 1.0, {}),
        ("single-choice", "1", {}),
        ("basic", [1], {}),
        ("approval", [1, 1], {}),
        ("approval", [0], {}),
        ("approval", (1, 2), {}),
        ("approval", 1, {}),
        ("ranked-choice", [1, 2], {}),
        ("ranked-choice", [1, 2, 2], {}),
        ("ranked-choice", [], {}),
        ("weighted", {}, {}),
        ("weighted", {1: -1}, {}),
        ("weighted", {1: 0, 2: 0}, {}),
        ("weighted", {1: math.nan}, {}),
        ("weighted", {1: math.inf}, {}),
        ("weighted", {4: 1}, {}),
        ("weighted", {"1": 1}, {}),
        ("weighted", {True: 1}, {}),
        ("quadratic", {1: 2**60}, {}),
        ("quadratic", {1: "2"}, {}),
        ("quadratic", [1], {}),
        ("copeland", [1, 2, 3], {}),
        ("single-choice", 1, {"privacy": "shutter"}),
        ("single-choice", 1, {"metadata": "[1]"}),
        ("single-choice", 1, {"metadata": "{not json"}),
        ("single-choice", 1, {"metadata": '{"a":"' + "x" * 2000 + '"}'}),
        ("single-choice", 1, {"reason": "x" * 5001}),
        ("single-choice", 1, {"app": "a" * 25}),
        ("single-choice", 1, {"voter": "0x1234"}),
        (
            "single-choice",
            1,
            {"voter": "0xF39FD6E51AAD88F6F4CE6AB8827279CFFFB92266".lower()[:-1] + "X"},
        ),
        ("single-choice", 1, {"timestamp": 0}),
        ("single-choice", 1, {"space": ""}),
        ("single-choice", 1, {"reason": "bad \ud800 surrogate"}),
        ("single-choice", 1, {"unknown_field": 1}),
    ],
)
def test_invalid_votes_are_refused_before_signing(kind: str, choice: Any, extra: dict) -> None:
    spy = SpySigner()
    with pytest.raises(InvalidVote) as info:
        request = VoteRequest(
            space=extra.pop("space", "s.eth"),
            proposal="0x01",
            proposal_type=kind,
            choices_count=3,
            choice=choice,
            **extra,
        )
        sign_vote(request, spy)
    assert spy.calls == 0
    assert str(info.value)


def test_messages_say_what_is_wrong() -> None:
    with pytest.raises(InvalidVote, match="ranked-choice vote must rank all 3 choices"):
        VoteRequest(
            space="s", proposal="p", proposal_type="ranked-choice", choices_count=3, choice=[1, 2]
        )
    with pytest.raises(InvalidVote, match="from 1 to 2"):
        VoteRequest(space="s", proposal="p", proposal_type="basic", choices_count=2, choice=3)
    with pytest.raises(InvalidVote, match="'copeland'"):
        VoteRequest(space="s", proposal="p", proposal_type="copeland", choices_count=2, choice=1)


def test_weighted_choice_keeps_float_weights_exactly() -> None:
    request = VoteRequest(
        space="s",
        proposal="p",
        proposal_type="weighted",
        choices_count=3,
        choice={3: 0.1, 1: 2},
    )
    data = build_vote(request, address=Account.from_key(KEYS["anvil0"]).address)
    assert data.message.choice == '{"1":2,"3":0.1}'


def test_for_proposal_uses_the_stored_proposal() -> None:
    proposal = Proposal(
        source="snapshot",
        space="s.eth",
        id="0xabc",
        title="t",
        state="active",
        choices=["A", "B", "C", "D"],
        type="approval",
    )
    request = VoteRequest.for_proposal(proposal, [4, 1], reason="why")
    assert (request.proposal_type, request.choices_count, request.choice) == ("approval", 4, [4, 1])
    untyped = proposal.model_copy(update={"type": None})
    with pytest.raises(InvalidVote):
        VoteRequest.for_proposal(untyped, [1])
    shielded = proposal.model_copy(update={"extra": ProposalExtra(privacy="shutter")})
    with pytest.raises(InvalidVote, match="shutter"):
        VoteRequest.for_proposal(shielded, [1])


def _request() -> VoteRequest:
    return VoteRequest(
        space="s.eth",
        proposal="0x01",
        proposal_type="basic",
        choices_count=3,
        choice=1,
        timestamp=1_767_225_600,
    )


def test_raw_key_is_refused_without_echoing_it() -> None:
    with pytest.raises(SigningFailed) as info:
        sign_vote(_request(), KEYS["anvil0"])  # type: ignore[arg-type]
    assert_no_secret(info.value)


def test_signature_by_another_key_is_refused() -> None:
    class Impostor(SpySigner):
        def sign_message(self, signable_message: SignableMessage) -> SignedMessage:
            return Account.from_key(KEYS["anvil1"]).sign_message(signable_message)

    with pytest.raises(SigningFailed, match="recovers to 0x7099"):
        sign_vote(_request(), Impostor())


def test_signer_errors_are_reported_without_their_text() -> None:
    class Leaky(SpySigner):
        def sign_message(self, signable_message: SignableMessage) -> SignedMessage:
            raise RuntimeError(f"device said key={KEYS['anvil0']}")

    with pytest.raises(SigningFailed, match="RuntimeError") as info:
        sign_vote(_request(), Leaky())
    assert_no_secret(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_nothing_returned_or_logged_holds_the_key(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    account = Account.from_key(KEYS["anvil0"])
    request = _request()
    envelope = sign_vote(request, account)
    assert recover_signer(envelope.data, envelope.sig) == account.address
    assert VoteEnvelope.model_validate(envelope.payload()) == envelope  # storable as JSON
    assert_no_secret(request, envelope, envelope.data, envelope.data.message, envelope.payload())
    assert_no_secret(json.dumps(envelope.payload()), envelope.model_dump_json())
    assert caplog.records and all(s not in caplog.text.lower() for s in SECRETS)
