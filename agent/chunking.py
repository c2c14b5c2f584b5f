"""Split proposals into passages the embedding model can hold.

MiniLM reads at most 256 tokens; ~150 words with the title in front stays
inside that. Table rules, zero-width characters and long runs of markup are
noise to the model and are dropped from the indexed text (the record store
keeps the original).
"""

from __future__ import annotations

import re
import unicodedata

from agent.models import Proposal
from agent.ports import Chunk

_RULE = re.compile(r"(?m)^\s*\|?(\s*:?-{3,}:?\s*\|)+\s*:?-*:?\s*$")
_DECORATION = re.compile(r"[-=_*#|]{4,}")
_SPACES = re.compile(r"[ \t]+")


def clean_text(text: str) -> str:
    """Drop invisible format characters and markup noise; keep the words."""
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = _RULE.sub("", text)
    text = _DECORATION.sub(" ", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
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


def chunk_proposal(
    proposal: Proposal, *, max_words: int, overlap: int, max_chunks: int
) -> tuple[list[Chunk], int]:
    """The proposal's chunks and how many were left out by `max_chunks`."""
    title = clean_text(proposal.title).replace("\n", " ")
    body_words = max(max_words - len(title.split()), max_words // 2)
    passages = split_words(clean_text(proposal.body), body_words, min(overlap, body_words - 1))
    if not passages:
        passages = [""]
    dropped = max(len(passages) - max_chunks, 0)
    metadata: dict[str, str | int | float | bool] = {
        "proposal_uid": proposal.uid,
        "source": proposal.source,
        "space": proposal.space,
        "state": proposal.state,
        "created": int(proposal.created.timestamp()),
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
