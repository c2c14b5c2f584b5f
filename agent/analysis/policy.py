"""A delegate's written voting policy: principles for judgement, hard rules for code.

Files are YAML, or Markdown with YAML front matter (the Markdown is the long
text, e.g. a constitution). `body_file` may point to a Markdown file next to
the YAML instead. Everything is validated on load; errors name the field.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from agent.errors import StewardError

_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n?(.*)\Z", re.S)
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


class PolicyError(StewardError):
    """The policy file is missing, unreadable or invalid; the message says where."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Principle(_Strict):
    id: str
    text: str = Field(min_length=10)
    weight: float = Field(1.0, gt=0, le=10)

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("use lowercase letters, digits, '.', '_' or '-' (max 64)")
        return value


class HardRules(_Strict):
    """Rules checked by code, never by a model."""

    max_outflow: dict[str, float] = Field(default_factory=dict)
    """Largest amount per token symbol (or USD) a proposal may ask for; above it: AGAINST."""
    upgrades_require_audit: bool = False
    """A contract upgrade without a link to an audit: AGAINST."""
    audit_link_patterns: list[str] = Field(
        default_factory=lambda: ["audit", "code4rena", "trailofbits", "openzeppelin.com/security"]
    )
    own_addresses: list[str] = Field(default_factory=list)
    own_names: list[str] = Field(default_factory=list)
    """The delegate's own addresses and names: proposals paying them are a conflict of
    interest, and the delegate abstains."""
    abstain_on_own_grants: bool = True

    @field_validator("max_outflow")
    @classmethod
    def _positive(cls, value: dict[str, float]) -> dict[str, float]:
        for token, limit in value.items():
            if limit < 0:
                raise ValueError(f"{token}: must be zero or more")
        return {token.upper(): limit for token, limit in value.items()}


class Escalation(_Strict):
    """When a human must look, whatever the recommendation."""

    confidence_below: float = Field(0.6, ge=0, le=1)
    categories: list[str] = Field(default_factory=lambda: ["constitution", "security"])
    on_conflicting_findings: bool = True


class ChoiceMap(_Strict):
    """How a proposal's own choice labels map to FOR / AGAINST / ABSTAIN (case-insensitive)."""

    for_: list[str] = Field(
        default_factory=lambda: ["for", "yes", "yae", "approve", "accept", "in favor"],
        alias="for",
    )
    against: list[str] = Field(default_factory=lambda: ["against", "no", "nay", "reject", "oppose"])
    abstain: list[str] = Field(default_factory=lambda: ["abstain", "no opinion"])

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("for_", "against", "abstain", mode="before")
    @classmethod
    def _yaml_booleans(cls, value: Any) -> Any:
        # YAML 1.1 reads unquoted yes/no as booleans; a delegate means the words.
        if isinstance(value, list):
            return [("yes" if v else "no") if isinstance(v, bool) else v for v in value]
        return value

    def label_of(self, choice: str) -> str | None:
        """FOR / AGAINST / ABSTAIN for one of a proposal's choice labels, if it maps."""
        text = choice.strip().lower()
        for label, words in (
            ("FOR", self.for_),
            ("AGAINST", self.against),
            ("ABSTAIN", self.abstain),
        ):
            for word in words:
                w = word.lower()
                if text == w or (text.startswith(w) and not text[len(w)].isalnum()):
                    return label
        return None


class Scope(_Strict):
    spaces: list[str] = Field(default_factory=list)
    governors: list[str] = Field(default_factory=list)
    """Empty lists: the policy applies everywhere."""


class Policy(_Strict):
    id: str
    owner: str = Field(min_length=1)
    title: str = ""
    applies_to: Scope = Field(default_factory=Scope)
    principles: list[Principle] = Field(min_length=1)
    hard_rules: HardRules = Field(default_factory=HardRules)
    escalate: Escalation = Field(default_factory=Escalation)
    choices: ChoiceMap = Field(default_factory=ChoiceMap)
    body: str = ""
    """The long text (Markdown): constitution, rationale, context."""

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        return Principle._id_shape(value)

    @model_validator(mode="after")
    def _unique_principles(self) -> Policy:
        ids = [p.id for p in self.principles]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"principle ids must be unique: {', '.join(dupes)}")
        return self

    @property
    def hash(self) -> str:
        """Changes whenever anything in the policy changes (assessments are then stale)."""
        canonical = json.dumps(self.model_dump(mode="json", by_alias=True), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def applies(self, source: str, space: str) -> bool:
        scope = self.applies_to
        if not scope.spaces and not scope.governors:
            return True
        return space in scope.spaces or space in scope.governors

    def principle(self, principle_id: str) -> Principle | None:
        return next((p for p in self.principles if p.id == principle_id), None)


def _describe(error: ValidationError, path: Path) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        msg = "unknown field" if item["type"] == "extra_forbidden" else item["msg"]
        lines.append(f"  {key}: {msg}")
    return f"invalid policy {path}:\n" + "\n".join(lines)


def parse_policy(text: str, path: Path) -> Policy:
    """Validate policy text (YAML, or Markdown with YAML front matter)."""
    body = ""
    match = _FRONT.match(text)
    if match:
        text, body = match.group(1), match.group(2).strip()
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"policy {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise PolicyError(f"policy {path} must be a mapping at the top level")
    body_file = data.pop("body_file", None)
    if body_file:
        target = (path.parent / str(body_file)).resolve()
        try:
            body = target.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise PolicyError(f"policy {path}: body_file {body_file}: {exc.strerror}") from None
    if body and "body" not in data:
        data["body"] = body
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(_describe(exc, path)) from None


def load_policy(path: str | Path) -> Policy:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read policy {path}: {exc.strerror}") from None
    return parse_policy(text, path)
