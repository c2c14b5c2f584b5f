"""Snapshot votes as EIP-712 typed data, built and signed exactly as snapshot.js 0.17.5 does.

Why so literal: the sequencer accepts a vote only if ``sha256(JSON.stringify(types))`` is one
it knows and the signature recovers over *its* encoding of the message, so every detail of
``Client712.vote``/``sign`` matters: the ``Vote`` type picked by proposal type, weighted and
quadratic choices sent as ``JSON.stringify`` text (integer keys ascending, JS number format),
``reason``/``app`` defaulting to ``""`` and ``metadata`` to ``"{}"``, a checksummed ``from``,
no ``chainId`` and no ``EIP712Domain`` in the envelope. tests/vectors/snapshot/ holds
signatures made by snapshot.js itself; the tests compare against them byte for byte.

Choices are checked against the proposal (as snapshot.js's ``isValidChoice``) before anything
is signed. Signing goes through a ``VoteSigner`` (an eth-account ``LocalAccount`` is one): no
function here takes, stores, logs or returns a private key.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal, Protocol

from eth_account import Account
from eth_account.datastructures import SignedMessage
from eth_account.messages import SignableMessage, encode_typed_data
from eth_utils import is_address, keccak, to_checksum_address
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from agent.errors import InvalidVote, SigningFailed
from agent.models import Proposal

log = logging.getLogger(__name__)

DOMAIN: dict[str, str] = {"name": "snapshot", "version": "0.1.4"}
ProposalType = Literal[
    "single-choice", "basic", "approval", "ranked-choice", "weighted", "quadratic"
]
SUPPORTED_TYPES: tuple[str, ...] = ProposalType.__args__  # type: ignore[attr-defined]
ChoiceType = Literal["uint32", "uint32[]", "string"]
CHOICE_TYPE: dict[str, ChoiceType] = {
    "single-choice": "uint32",
    "basic": "uint32",
    "approval": "uint32[]",
    "ranked-choice": "uint32[]",
    "weighted": "string",
    "quadratic": "string",
}
MAX_REASON = 5000  # snapshot.js schemas/vote.json
MAX_APP = 24  # idem
MAX_METADATA = 2000  # the sequencer's "too large metadata", in UTF-16 code units
MAX_SAFE_INTEGER = 2**53 - 1
UINT32_MAX = 2**32 - 1
Choice = int | list[int] | dict[int, int | float]


def vote_types(choice_type: ChoiceType) -> dict[str, list[dict[str, str]]]:
    """snapshot.js's ``voteTypes`` / ``voteArrayTypes`` / ``voteStringTypes``, in field order."""
    fields = [
        ("from", "string"),
        ("space", "string"),
        ("timestamp", "uint64"),
        ("proposal", "string"),
        ("choice", choice_type),
        ("reason", "string"),
        ("app", "string"),
        ("metadata", "string"),
    ]
    return {"Vote": [{"name": name, "type": type_} for name, type_ in fields]}


# ------------------------------------------------------------------ JSON.stringify
def js_number(value: int | float) -> str:
    """ECMAScript Number::toString for a finite number (what JSON.stringify writes)."""
    if isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"not a finite JS number: {value!r}")
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValueError(f"{value} is beyond JavaScript's exact integers")
        return str(value)
    if value == 0:
        return "0"
    if value < 0:
        return "-" + js_number(-value)
    _, digits_t, exp = Decimal(repr(value)).normalize().as_tuple()  # shortest round-trip
    digits = "".join(map(str, digits_t))
    k, n = len(digits), int(exp) + len(digits)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * -n + digits
    e = n - 1
    mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{mantissa}e{'+' if e > 0 else '-'}{abs(e)}"


def _is_array_index(key: str) -> bool:
    return key.isdigit() and key.isascii() and str(int(key)) == key and int(key) < UINT32_MAX


def js_stringify(value: Any) -> str:
    """``JSON.stringify(value)`` for JSON-like data: JS key order (integer-like keys first,
    ascending), JS number format, no spaces, non-ASCII kept as is."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int | float):
        return js_number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ",".join(js_stringify(v) for v in value) + "]"
    if isinstance(value, dict):
        keys = [str(k) for k in value]
        if len(set(keys)) != len(keys):
            raise ValueError("two keys have the same text")
        items = {str(k): v for k, v in value.items()}
        ordered = sorted((k for k in keys if _is_array_index(k)), key=int)
        ordered += [k for k in keys if not _is_array_index(k)]
        return "{" + ",".join(f"{js_stringify(k)}:{js_stringify(items[k])}" for k in ordered) + "}"
    raise TypeError(f"cannot stringify {type(value).__name__}")


def types_hash(types: dict[str, Any]) -> str:
    """``sha256(JSON.stringify(types))``: how the sequencer recognises a message type."""
    return hashlib.sha256(js_stringify(types).encode("utf-8")).hexdigest()


# ------------------------------------------------------------------ choice rules
def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_choice(kind: str, choice: Any, n: int) -> Choice:
    """snapshot.js's ``isValidChoice`` per voting type, with a message naming what is wrong."""
    span = f"1 to {n}"
    if kind in ("single-choice", "basic"):
        if not _is_int(choice) or not 1 <= choice <= n:
            raise InvalidVote(f"a {kind} vote takes one choice number from {span}, not {choice!r}")
        return int(choice)
    if kind in ("approval", "ranked-choice"):
        if not isinstance(choice, list) or not all(_is_int(c) and 1 <= c <= n for c in choice):
            raise InvalidVote(f"a {kind} vote takes a list of choice numbers from {span}")
        if len(set(choice)) != len(choice):
            raise InvalidVote(f"a {kind} vote lists a choice twice: {choice}")
        if kind == "ranked-choice" and len(choice) != n:
            raise InvalidVote(f"a ranked-choice vote must rank all {n} choices, not {len(choice)}")
        return [int(c) for c in choice]
    if not isinstance(choice, dict) or not choice:
        raise InvalidVote(f"a {kind} vote takes a non-empty map of choice number to weight")
    for key, weight in choice.items():
        if not _is_int(key) or not 1 <= key <= n:
            raise InvalidVote(f"a {kind} vote's keys are choice numbers from {span}, not {key!r}")
        finite = _is_int(weight) or (isinstance(weight, float) and math.isfinite(weight))
        if not finite or weight < 0 or (_is_int(weight) and weight > MAX_SAFE_INTEGER):
            raise InvalidVote(f"choice {key} has weight {weight!r}; weights are numbers ≥ 0")
    if not any(w > 0 for w in choice.values()):
        raise InvalidVote(f"a {kind} vote needs at least one weight above 0")
    return dict(choice)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


class VoteRequest(BaseModel):
    """What to vote and on which proposal; validated on construction (``InvalidVote``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    space: str = Field(min_length=1)
    proposal: str = Field(min_length=1)
    proposal_type: str
    choices_count: int = Field(ge=1, le=UINT32_MAX)
    """How many choices the proposal offers (choice numbers are 1-based)."""
    choice: Any
    reason: str = Field(default="", max_length=MAX_REASON)
    app: str = Field(default="", max_length=MAX_APP)
    metadata: str = ""
    """JSON object text; empty means ``{}`` as in snapshot.js."""
    timestamp: int | None = Field(default=None, gt=0, lt=2**64)
    """Unix seconds to sign; None means the clock at signing time."""
    voter: str | None = None
    """``from`` when an alias key signs for this address; None means the signer itself."""
    privacy: str = ""

    @model_validator(mode="wrap")
    @classmethod
    def _as_invalid_vote(cls, data: Any, handler: Callable[[Any], VoteRequest]) -> VoteRequest:
        try:
            return handler(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "vote"
            raise InvalidVote(f"invalid vote: {where}: {first['msg']}") from None

    @model_validator(mode="after")
    def _check(self) -> VoteRequest:
        if self.privacy == "shutter":
            raise InvalidVote(
                "this proposal uses shielded (shutter) voting, which Steward can't sign"
            )
        if self.proposal_type not in SUPPORTED_TYPES:
            raise InvalidVote(
                f"Steward can't sign votes on {self.proposal_type!r} proposals; "
                f"snapshot.js 0.17.5 signs {', '.join(SUPPORTED_TYPES)}"
            )
        object.__setattr__(
            self, "choice", _check_choice(self.proposal_type, self.choice, self.choices_count)
        )
        for name in ("space", "proposal", "reason", "app", "metadata"):
            try:
                getattr(self, name).encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidVote(f"invalid vote: {name} is not valid Unicode text") from None
        if self.metadata:
            _check_metadata(self.metadata)
        if self.voter is not None and not is_address(self.voter):
            raise InvalidVote(f"invalid vote: voter {self.voter!r} is not an Ethereum address")
        return self

    @classmethod
    def for_proposal(cls, proposal: Proposal, choice: Choice, **fields: Any) -> VoteRequest:
        """A request for a stored Snapshot proposal (its type, choices and privacy)."""
        if proposal.source != "snapshot":
            raise InvalidVote(f"{proposal.uid} is not a Snapshot proposal")
        privacy = proposal.extra.privacy or ""
        return cls(
            space=proposal.space,
            proposal=proposal.id,
            proposal_type=proposal.type or "unknown",
            choices_count=len(proposal.choices),
            choice=choice,
            privacy=privacy,
            **fields,
        )


def _check_metadata(metadata: str) -> None:
    if _utf16_len(metadata) > MAX_METADATA:
        raise InvalidVote(f"invalid vote: metadata is longer than {MAX_METADATA} characters")
    try:
        parsed = json.loads(metadata)
    except ValueError:
        raise InvalidVote("invalid vote: metadata is not JSON text") from None
    if not isinstance(parsed, dict):
        raise InvalidVote("invalid vote: metadata must be a JSON object")


# ------------------------------------------------------------------ typed data
class VoteMessage(BaseModel):
    """The signed ``Vote`` message, fields in the type's order."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    from_: str = Field(alias="from")
    space: str
    timestamp: int
    proposal: str
    choice: int | list[int] | str
    reason: str
    app: str
    metadata: str


class TypedVote(BaseModel):
    """``{domain, types, message}`` as snapshot.js puts it in the envelope's ``data``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    domain: dict[str, str]
    types: dict[str, list[dict[str, str]]]
    message: VoteMessage

    def payload(self) -> dict[str, Any]:
        return {
            "domain": dict(self.domain),
            "types": {k: [dict(f) for f in v] for k, v in self.types.items()},
            "message": self.message.model_dump(by_alias=True),
        }

    def full_message(self) -> dict[str, Any]:
        """The EIP-712 document eth-account encodes (ethers derives the same domain type)."""
        domain_type = [{"name": key, "type": "string"} for key in self.domain]
        data = self.payload()
        return {
            "types": {"EIP712Domain": domain_type, **data["types"]},
            "primaryType": "Vote",
            "domain": data["domain"],
            "message": data["message"],
        }

    def signable(self) -> SignableMessage:
        return encode_typed_data(full_message=self.full_message())

    @property
    def vote_id(self) -> str:
        """The EIP-712 hash: the id the sequencer answers with and the hub stores."""
        s = self.signable()
        return "0x" + keccak(b"\x19" + s.version + s.header + s.body).hex()


class VoteEnvelope(BaseModel):
    """What is POSTed to the sequencer: ``{address, sig, data}``. Nothing secret inside."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    address: str
    sig: str
    data: TypedVote

    @property
    def vote_id(self) -> str:
        return self.data.vote_id

    def payload(self) -> dict[str, Any]:
        return {"address": self.address, "sig": self.sig, "data": self.data.payload()}


class VoteSigner(Protocol):
    """Anything that signs an EIP-191/712 message for one address (eth-account's
    ``LocalAccount``, a hardware or remote signer). Steward never sees the key."""

    @property
    def address(self) -> str: ...

    def sign_message(self, signable_message: SignableMessage) -> SignedMessage: ...


def _checksum(address: str, what: str) -> str:
    if not isinstance(address, str) or not is_address(address):
        raise InvalidVote(f"{what} {address!r} is not an Ethereum address")
    return str(to_checksum_address(address))


def build_vote(
    request: VoteRequest, *, address: str, now: Callable[[], float] = time.time
) -> TypedVote:
    """The typed data snapshot.js's ``Client712.vote`` signs for ``address``."""
    choice: int | list[int] | str = (
        js_stringify(request.choice)
        if CHOICE_TYPE[request.proposal_type] == "string"
        else request.choice
    )
    voter = _checksum(request.voter or address, "voter")
    message = VoteMessage(
        from_=voter,
        space=request.space,
        timestamp=request.timestamp or round(now()),
        proposal=request.proposal,
        choice=choice,
        reason=request.reason or "",
        app=request.app or "",
        metadata=request.metadata or "{}",
    )
    types = vote_types(CHOICE_TYPE[request.proposal_type])
    return TypedVote(domain=dict(DOMAIN), types=types, message=message)


def recover_signer(data: TypedVote, sig: str) -> str:
    """The checksummed address that signed ``data`` (raises on a malformed signature)."""
    return str(Account.recover_message(data.signable(), signature=sig))


def sign_vote(
    request: VoteRequest, signer: VoteSigner, *, now: Callable[[], float] = time.time
) -> VoteEnvelope:
    """Sign ``request`` with ``signer`` and return the sequencer envelope.

    The signature is checked to recover to the signer before it is returned, so a broken
    signer can never send a vote that the sequencer would attribute to someone else.
    """
    if isinstance(signer, str | bytes | bytearray):
        raise SigningFailed("pass a LocalAccount or VoteSigner, never a raw private key")
    address = _checksum(signer.address, "signer address")
    data = build_vote(request, address=address, now=now)
    try:
        signed = signer.sign_message(data.signable())
        sig = "0x" + bytes(signed.signature).hex()
    except Exception as exc:  # noqa: BLE001 - a signer's own message could carry key material
        raise SigningFailed(
            f"the signer for {address} failed to sign the vote ({type(exc).__name__})"
        ) from None
    try:
        recovered = recover_signer(data, sig)
    except Exception:  # noqa: BLE001 - malformed signature bytes
        raise SigningFailed(f"the signer for {address} returned a malformed signature") from None
    if recovered != address:
        raise SigningFailed(f"the signature for {address} recovers to {recovered}; not sending it")
    envelope = VoteEnvelope(address=address, sig=sig, data=data)
    log.info(
        "signed vote %s by %s on %s/%s", envelope.vote_id, address, request.space, request.proposal
    )
    return envelope
