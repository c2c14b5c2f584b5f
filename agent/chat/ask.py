"""/ask: answer a question from the stored proposals, and say where the answer comes from.

Retrieval decides whether there is anything to answer from at all: below
`min_score` the honest answer is "the stored proposals don't answer this".
Without a chat model the answer quotes the best passages (extractive); with one,
the model may only use those passages, and only the proposals it actually
cites are shown as sources. A failing model never fails the question.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from agent.analysis.injection import neutralise
from agent.analysis.llm import nonce_for
from agent.analysis.prompts import load_prompt
from agent.ports import Embedder, TextIndex, VectorIndex
from agent.search import SearchHit, search
from agent.store.records import StoredProposal

log = logging.getLogger(__name__)
NOT_FOUND = "The stored proposals don't answer this."
NO_ANSWER_MARK = "NOT_IN_PASSAGES"
QUOTES = 3
QUOTE_CHARS = 300
MODEL_ANSWER_CHARS = 4000


class Citation(BaseModel):
    model_config = ConfigDict(frozen=True)
    uid: str
    title: str
    link: str | None = None
    quote: str
    """At most `QUOTE_CHARS` of the passage that matched, whitespace collapsed."""


class Answer(BaseModel):
    model_config = ConfigDict(frozen=True)
    question: str
    text: str
    """Plain text (never Markdown); builders escape it before Discord sees it."""
    found: bool
    citations: list[Citation] = Field(default_factory=list)
    method: Literal["none", "extractive", "model"] = "extractive"
    """How `text` was made: nothing relevant, quoted passages, or a chat model."""


class ProposalLookup(Protocol):
    """What /ask reads from the record store: links and titles for citations."""

    def get(self, uid: str) -> StoredProposal | None: ...


def answer_question(
    question: str,
    *,
    index: VectorIndex,
    embedder: Embedder,
    store: ProposalLookup,
    text_index: TextIndex | None = None,
    spaces: Sequence[str] = (),
    chat_model: Any | None = None,
    min_score: float = 0.35,
    limit: int = 4,
) -> Answer:
    """Answer `question` from the proposals in `index` (limited to `spaces` if given)."""
    hits = search(question, index, embedder, spaces=spaces, limit=limit, text_index=text_index)
    relevant = [h for h in hits if h.score >= min_score]
    if not relevant:
        return Answer(question=question, text=NOT_FOUND, found=False, method="none")
    citations = [_citation(h, store) for h in relevant]
    if chat_model is not None:
        try:
            return _model_answer(question, relevant, citations, chat_model)
        except Exception as exc:  # noqa: BLE001 - providers raise their own types
            # Only the type: provider messages can echo request details.
            log.warning("ask: the chat model failed (%s); quoting passages", type(exc).__name__)
    return _extractive(question, citations[:QUOTES])


def _extractive(question: str, citations: list[Citation]) -> Answer:
    """The best passages, quoted, each numbered like the sources list."""
    quotes = [f"[{i}] {c.title}: “{c.quote}”" for i, c in enumerate(citations, 1)]
    text = "Closest passages in the stored proposals:\n\n" + "\n\n".join(quotes)
    return Answer(question=question, text=text, found=True, citations=citations)


def _model_answer(
    question: str, hits: list[SearchHit], citations: list[Citation], chat_model: Any
) -> Answer:
    passages = [
        dict(uid=h.uid.replace('"', "'"), title=neutralise(h.title), text=neutralise(h.passage))
        for h in hits
    ]
    prompt = load_prompt("ask").render(
        nonce=nonce_for(question + "".join(h.uid + h.passage for h in hits)),
        example_uid=hits[0].uid,
        question=neutralise(question),
        passages=passages,
    )
    text = _text(chat_model.invoke(prompt)).strip()[:MODEL_ANSWER_CHARS]
    used = [c for c in citations if c.uid in text]
    if not text or NO_ANSWER_MARK in text or not used:
        return Answer(question=question, text=NOT_FOUND, found=False, method="model")
    return Answer(question=question, text=text, found=True, citations=used, method="model")


def _citation(hit: SearchHit, store: ProposalLookup) -> Citation:
    stored = store.get(hit.uid)
    title = stored.proposal.title if stored else hit.title
    link = stored.proposal.link if stored else None
    return Citation(uid=hit.uid, title=title, link=link, quote=_quote(hit.passage))


def _quote(passage: str) -> str:
    text = " ".join(passage.split())
    if len(text) <= QUOTE_CHARS:
        return text
    head = text[: QUOTE_CHARS - 1]
    space = head.rfind(" ")
    return (head[:space] if space > QUOTE_CHARS // 2 else head).rstrip() + "…"


def _text(reply: Any) -> str:
    """A chat model's reply as text, whether `content` is a string or content blocks."""
    content = getattr(reply, "content", reply)
    if isinstance(content, list):
        return " ".join(str(c.get("text", "")) if isinstance(c, dict) else str(c) for c in content)
    return str(content)
