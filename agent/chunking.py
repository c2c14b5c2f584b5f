"""Split proposals into passages the embedding model can hold.

MiniLM reads at most 256 tokens and silently ignores the rest, so a chunk
must stay under that: ~120 words with the title in front does. Link targets,
long hex strings, table rules and zero-width characters cost many tokens and
carry little meaning; they are dropped from the indexed text (the record
store keeps the original).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Callable, Sequence
from functools import cache

from agent.models import Proposal
from agent.ports import Chunk

_RULE = re.compile(r"(?m)^\s*\|?(\s*:?-{3,}:?\s*\|)+\s*:?-*:?\s*$")
_DECORATION = re.compile(r"[-=_*#|]{4,}")
_SPACES = re.compile(r"[ \t]+")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\((?:[^()\s]|\([^()\s]*\))*\)")
_URL = re.compile(r"https?://([^/\s)>\]]+)[^\s)>\]]*")
_EMPHASIS = re.compile(r"(?m)\*\*|__|^\s*::\w+\s*$")
_CELL = re.compile(r"[ \t]*\|[ \t]*")
_HEX = re.compile(r"\b0x[0-9a-fA-F]{16,}\b")


@cache
def _format_chars() -> dict[int, None]:
    """Every invisible format character (Unicode category Cf), for `str.translate`."""
    return {i: None for i in range(sys.maxunicode + 1) if unicodedata.category(chr(i)) == "Cf"}


def clean_text(text: str) -> str:
    """Drop invisible format characters and markup noise; keep the words."""
    if not text.isascii():  # ASCII has no format characters
        text = text.translate(_format_chars())
    text = _RULE.sub("", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _URL.sub(r"\1", text)
    text = _EMPHASIS.sub("", text)
    text = _CELL.sub(" | ", text)
    text = re.sub(r"( \|)+ ", " | ", text)
    text = _HEX.sub(lambda m: m.group(0)[:10] + "…", text)
    text = _DECORATION.sub(" ", text)
    lines = [_SPACES.sub(" ", line).strip(" |") for line in text.splitlines()]
    return "\n".join(lines)


def _windows(words: list[str], size: int, overlap: int) -> list[list[str]]:
    step = size - overlap
    return [words[i : i + size] for i in range(0, max(len(words) - overlap, 1), step)]


def split_words(text: str, max_words: int, overlap: int) -> list[str]:
    """Paragraph-aware packing: whole paragraphs where they fit, windows where not."""
    paragraphs = [p.split() for p in re.split(r"\n\s*\n", text) if p.strip()]
    pieces: list[list[str]] = []
    current: list[str] = []
    for words in paragraphs:
        if len(words) > max_words:
            if current:
                pieces.append(current)
                current = []
            pieces.extend(_windows(words, max_words, overlap))
        elif len(current) + len(words) > max_words:
            pieces.append(current)
            current = list(words)
        else:
            current.extend(words)
    if current:
        pieces.append(current)
    return [" ".join(p) for p in pieces if p]


TokenCounter = Callable[[Sequence[str]], list[int]]


def fit_tokens(title: str, passages: list[str], count: TokenCounter, max_tokens: int) -> list[str]:
    """Halve passages (by words) until title + passage fits the model's window.

    The model would otherwise ignore everything past its window without a word.
    """
    sizes = count([f"{title}\n\n{p}" for p in passages])
    fitted: list[str] = []
    for passage, size in zip(passages, sizes, strict=True):
        words = passage.split()
        if size <= max_tokens or len(words) < 2:
            fitted.append(passage)
        else:
            half = len(words) // 2
            halves = [" ".join(words[:half]), " ".join(words[half:])]
            fitted.extend(fit_tokens(title, halves, count, max_tokens))
    return fitted


def chunk_proposal(
    proposal: Proposal,
    *,
    max_words: int,
    overlap: int,
    max_chunks: int,
    count_tokens: TokenCounter | None = None,
    max_tokens: int = 256,
) -> tuple[list[Chunk], int]:
    """The proposal's chunks and how many were left out by `max_chunks`."""
    title = clean_text(proposal.title).replace("\n", " ")
    body_words = max(max_words - len(title.split()), max_words // 2)
    passages = split_words(clean_text(proposal.body), body_words, min(overlap, body_words - 1))
    if not passages:
        passages = [""]
    unchecked = 0  # passages past what could ever be indexed are not even token-counted
    if count_tokens is not None:
        unchecked = max(len(passages) - max_chunks * 2, 0)
        passages = fit_tokens(title, passages[: max_chunks * 2], count_tokens, max_tokens)
    dropped = max(len(passages) - max_chunks, 0) + unchecked
    metadata: dict[str, str | int | float | bool] = {
        "proposal_uid": proposal.uid,
        "source": proposal.source,
        "space": proposal.space,
        "state": proposal.state,
        "created": int(proposal.created.timestamp()) if proposal.created else 0,
        "flagged": proposal.flagged,
        "title": title[:300],
    }
    chunks = [
        Chunk(
            id=f"{proposal.uid}#{i}",
            proposal_uid=proposal.uid,
            index=i,
            text=f"{title}\n\n{text}".strip(),
            metadata={**metadata, "chunk": i},
        )
        for i, text in enumerate(passages[:max_chunks])
    ]
    return chunks, dropped
