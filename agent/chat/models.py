"""Messages as Discord will show them, with Discord's limits enforced at construction."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

CONTENT_LIMIT = 2000
EMBED_TOTAL_LIMIT = 6000
EMBEDS_PER_MESSAGE = 10


class EmbedField(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str = Field(min_length=1, max_length=256)
    value: str = Field(min_length=1, max_length=1024)
    inline: bool = False


class Embed(BaseModel):
    model_config = ConfigDict(frozen=True)
    title: str = Field("", max_length=256)
    url: str | None = None
    """Only the proposal's own http(s) link, never a link taken from proposal text."""
    description: str = Field("", max_length=4096)
    colour: int | None = None
    fields: list[EmbedField] = Field(default_factory=list, max_length=25)
    footer: str = Field("", max_length=2048)

    @property
    def size(self) -> int:
        return (
            len(self.title)
            + len(self.description)
            + len(self.footer)
            + sum(len(f.name) + len(f.value) for f in self.fields)
        )

    @model_validator(mode="after")
    def _total(self) -> Embed:
        if self.size > EMBED_TOTAL_LIMIT:
            raise ValueError(f"embed is {self.size} characters; Discord allows {EMBED_TOTAL_LIMIT}")
        if self.url is not None and not self.url.startswith(("https://", "http://")):
            raise ValueError("embed url must be http(s)")
        return self


class Message(BaseModel):
    """One Discord message. Sent with allowed_mentions=none, always."""

    model_config = ConfigDict(frozen=True)
    content: str = Field("", max_length=CONTENT_LIMIT)
    embeds: list[Embed] = Field(default_factory=list, max_length=EMBEDS_PER_MESSAGE)
    ephemeral: bool = False

    @model_validator(mode="after")
    def _not_empty(self) -> Message:
        if not self.content and not self.embeds:
            raise ValueError("a message needs content or an embed")
        if sum(e.size for e in self.embeds) > EMBED_TOTAL_LIMIT:
            raise ValueError("embeds of one message exceed 6000 characters together")
        return self


class PlannedPost(BaseModel):
    """A post the scheduler wants sent; `key` makes it idempotent in the post log."""

    model_config = ConfigDict(frozen=True)
    key: str
    target: str
    """A channel id (bot mode) or `webhook` (webhook mode)."""
    kind: Literal["digest", "alert", "reminder"]
    messages: list[Message]
