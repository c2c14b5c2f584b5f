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
_SPACES = re.compile(r"[ \t]{2,}|\t")  # a lone space is left as it is
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\((?:[^()\s]|\([^()\s]*\))*\)")
_URL = re.compile(r"https?://([^/\s)>\]]+)[^\s)>\]]*")
_EMPHASIS = re.compile(r"(?m)\*\*|__|^\s*::\w+\s*$")
_CELL = re.compile(r"[ \t]*\|[ \t]*")
_PIPES = re.compile(r"( \|)+ ")
_HEX = re.compile(r"0x[0-9a-fA-F]{16,}\b")
"""Long hex strings; one glued to a word before it is kept (`_shorten_hex`). A leading
`\\b` would cost the regex its fast scan for the literal `0x`."""


def _shorten_hex(match: re.Match[str]) -> str:
    start = match.start()
    before = match.string[start - 1] if start else " "
    if before.isalnum() or before == "_":  # not at a word boundary: leave it
        return match.group(0)
    return match.group(0)[:10] + "…"


@cache
def _format_chars() -> frozenset[str]:
    """Every invisible format character (Unicode category Cf)."""
    return frozenset(
        chr(i) for i in range(sys.maxunicode + 1) if unicodedata.category(chr(i)) == "Cf"
    )


def clean_text(text: str) -> str:
    """Drop invisible format characters and markup noise; keep the words."""
    if not text.isascii():  # ASCII has no format characters; few texts have any
        found = _format_chars().intersection(text)
        if found:
            text = text.translate(dict.fromkeys(map(ord, found)))
    # Each rule runs only where its tell-tale characters occur (a substring test is far
    # cheaper than a regex scan, and most passages have no tables, links or hex).
    if "|" in text:
        text = _RULE.sub("", text)
    if "](" in text:
        text = _MD_LINK.sub(r"\1", text)
    if "://" in text:
        text = _URL.sub(r"\1", text)
    if "**" in text or "__" in text or "::" in text:
        text = _EMPHASIS.sub("", text)
    if "|" in text:
        text = _CELL.sub(" | ", text)
        text = _PIPES.sub(" | ", text)
    if "0x" in text:
        text = _HEX.sub(_shorten_hex, text)
    text = _DECORATION.sub(" ", text)
    if "  " in text or "\t" in text:
        text = _SPACES.sub(" ", text)  # runs of blanks within lines (never a line break)
    return "\n".join(line.strip(" |") for line in text.splitlines())


def chunk_title(title: str) -> str:
    """A proposal's title as its chunks carry it in front (and search hits show it)."""
    return clean_text(title).replace("\n", " ")


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
    return fit_many([(title, passages)], count, max_tokens)[0]


def fit_many(
    items: Sequence[tuple[str, list[str]]], count: TokenCounter, max_tokens: int
) -> list[list[str]]:
    """`fit_tokens` for many (title, passages) at once: one token count for all of them,
    then one for all the halves (the tokenizer works a big batch on every core)."""
    texts = [f"{title}\n\n{p}" for title, passages in items for p in passages]
    sizes = iter(count(texts)) if texts else iter(())
    over: list[tuple[int, int, str, list[str]]] = []  # (item, slot, title, halves)
    fitted: list[list[list[str]]] = []
    for i, (title, passages) in enumerate(items):
        slots: list[list[str]] = []
        for passage in passages:
            words = passage.split()
            if next(sizes) <= max_tokens or len(words) < 2:
                slots.append([passage])
            else:
                half = len(words) // 2
                over.append(
                    (i, len(slots), title, [" ".join(words[:half]), " ".join(words[half:])])
                )
                slots.append([])
        fitted.append(slots)
    if over:
        refit = fit_many([(title, halves) for _, _, title, halves in over], count, max_tokens)
        for (i, slot, _, _), parts in zip(over, refit, strict=True):
            fitted[i][slot] = parts
    return [[p for slot in slots for p in slot] for slots in fitted]


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
    [out] = chunk_proposals(
        [proposal],
        max_words=max_words,
        overlap=overlap,
        max_chunks=max_chunks,
        count_tokens=count_tokens,
        max_tokens=max_tokens,
    )
    return out


def chunk_proposals(
    proposals: Sequence[Proposal],
    *,
    max_words: int,
    overlap: int,
    max_chunks: int,
    count_tokens: TokenCounter | None = None,
    max_tokens: int = 256,
) -> list[tuple[list[Chunk], int]]:
    """Each proposal's chunks and how many were left out by `max_chunks`; the token
    counts of all of them are taken together."""
    split: list[tuple[str, list[str]]] = []
    unchecked: list[int] = []  # passages past what could ever be indexed are not counted
    for proposal in proposals:
        title = chunk_title(proposal.title)
        body_words = max(max_words - len(title.split()), max_words // 2)
        passages = split_words(clean_text(proposal.body), body_words, min(overlap, body_words - 1))
        passages = passages or [""]
        if count_tokens is not None:
            unchecked.append(max(len(passages) - max_chunks * 2, 0))
            passages = passages[: max_chunks * 2]
        else:
            unchecked.append(0)
        split.append((title, passages))
    if count_tokens is not None:
        fitted = fit_many(split, count_tokens, max_tokens)
        split = [(title, passages) for (title, _), passages in zip(split, fitted, strict=True)]
    return [
        _chunks(proposal, title, passages, max_chunks, skipped)
        for proposal, (title, passages), skipped in zip(proposals, split, unchecked, strict=True)
    ]


def _chunks(
    proposal: Proposal, title: str, passages: list[str], max_chunks: int, unchecked: int
) -> tuple[list[Chunk], int]:
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
