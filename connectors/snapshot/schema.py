"""The hub's answers as pydantic models: validated where they enter.

Field names and types follow the hub's own GraphQL schema (snapshot-hub's
`src/graphql/schema.gql`; the tests hold these models to a verbatim copy of it). A failure
names the field (`proposals[3].created`), and happens before anything is written.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, TypeAdapter, ValidationError

from agent.errors import MalformedResponse

T = TypeVar("T")


class _Raw(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=False)


class RawSpaceRef(_Raw):
    id: str


class RawSpace(_Raw):
    id: str
    name: str | None = None
    network: str | None = None
    symbol: str | None = None
    verified: StrictBool | None = None
    flagged: StrictBool | None = None
    proposalsCount: int | None = None


class RawProposal(_Raw):
    id: str = Field(min_length=1)
    author: str
    created: int
    updated: int | None = None
    space: RawSpaceRef
    type: str | None = None
    title: str
    body: str | None = None
    discussion: str | None = None
    choices: list[str]
    start: int
    end: int
    quorum: float | None = None
    snapshot: int | None = None
    """The block voting power is read at: `Int` since snapshot-hub #937 (2024-10)."""
    state: Literal["pending", "active", "closed"]
    link: str | None = None
    scores: list[float] | None = None
    scores_state: str | None = None
    scores_total: float | None = None
    votes: int | None = None
    flagged: StrictBool | None = None


class RawProposalRef(_Raw):
    id: str


class RawVote(_Raw):
    id: str = Field(min_length=1)
    voter: str
    created: int
    proposal: RawProposalRef | None = None
    choice: int | list[int] | dict[str, float] | str
    vp: float | None = None
    reason: str | None = None


ROOT_MODELS: dict[str, type[_Raw]] = {
    "space": RawSpace,
    "proposal": RawProposal,
    "proposals": RawProposal,
    "vote": RawVote,
    "votes": RawVote,
}
"""Which model reads each root field of the hub's answers."""

REQUIRED_WHERE_NULLABLE: dict[str, str] = {
    "Proposal.space": "a proposal is stored under its space; the hub always sends it",
    "Proposal.state": "open or closed decides what is re-read and voted on; always computed",
}
"""Fields the schema lets be null that Steward cannot do without. A null there is a
malformed answer (named, nothing stored), never a guess."""


def _field_path(root: str, loc: tuple[Any, ...]) -> str:
    path = root
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def parse(data: dict[str, Any], key: str, model: type[T], *, many: bool) -> Any:
    """Validate `data[key]` as one `model` (or a list); MalformedResponse names the field."""
    if key not in data:
        raise MalformedResponse(f"the Snapshot hub's answer lacks `{key}`")
    target: Any = list[model] if many else model | None  # type: ignore[valid-type]
    adapter: TypeAdapter[Any] = TypeAdapter(target)
    value = data[key]
    if many and value is None:
        raise MalformedResponse(f"the Snapshot hub answered `{key}: null` where a list was due")
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _field_path(key, first["loc"])
        raise MalformedResponse(
            f"the Snapshot hub sent a malformed answer at {where}: {first['msg']} "
            f"({exc.error_count()} problem(s)); nothing from it was stored"
        ) from None
