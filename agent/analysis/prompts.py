"""Prompt templates as files in `prompts/`, with front matter (id, version).

Rendered with Jinja2's StrictUndefined: a missing variable is an error, never
an empty string. The hash of the templates used goes into every assessment.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, StrictUndefined, TemplateError
from pydantic import BaseModel, ConfigDict

from agent.errors import ConfigError

PROMPTS_DIR = Path(__file__).resolve().parent.parent.parent / "prompts"
_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n(.*)\Z", re.S)


class Prompt(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    version: int
    template: str
    sha256: str

    def render(self, **variables: Any) -> str:
        env = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
        try:
            return env.from_string(self.template).render(**variables)
        except TemplateError as exc:
            raise ConfigError(f"prompt {self.id!r}: {exc}") from None


def load_prompt(name: str, directory: Path = PROMPTS_DIR) -> Prompt:
    path = directory / f"{name}.md"
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read prompt {path}: {exc.strerror}") from None
    match = _FRONT.match(raw)
    if not match:
        raise ConfigError(f"prompt {path} needs front matter with id and version")
    meta = yaml.safe_load(match.group(1)) or {}
    if not isinstance(meta, dict) or "id" not in meta or "version" not in meta:
        raise ConfigError(f"prompt {path}: front matter must give id and version")
    return Prompt(
        id=str(meta["id"]),
        version=int(meta["version"]),
        template=match.group(2),
        sha256=hashlib.sha256(raw.encode()).hexdigest(),
    )


def prompts_hash(*prompts: Prompt) -> str:
    return hashlib.sha256("".join(p.sha256 for p in prompts).encode()).hexdigest()
