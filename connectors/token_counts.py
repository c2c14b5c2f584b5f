"""Exact token counts, fast: word by word from a cache, where the tokenizer allows it.

Chunking counts the tokens of every passage to keep it inside the model's window,
and with a fast embedder (a GPU) that count is a fifth of the index pipeline's time.
A BERT tokenizer (BertNormalizer, BertPreTokenizer, WordPiece) works on each
whitespace-separated word on its own: normalising is per character and splitting
starts at whitespace. So a text's count is the special tokens plus the sum of its
words' counts, and each distinct word needs tokenizing once. Any other tokenizer is
asked about every text, as is a text holding the one kind of character where
Python's `str.split` and the tokenizer disagree on what separates words.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

_SPLIT_DIFFERS = re.compile("[\x1c-\x1f]")
"""Python splits words at these; BERT's normalizer deletes them (they are control
characters), joining the words on either side."""
_MAX_WORDS = 500_000  # cached words before the cache starts over (~50 MB)


class TokenCounter:
    """Counts tokens (special tokens included, never truncated) of a `tokenizers.Tokenizer`
    that has neither truncation nor padding."""

    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer
        spec = json.loads(tokenizer.to_str())
        kinds = (
            (spec.get("normalizer") or {}).get("type"),
            (spec.get("pre_tokenizer") or {}).get("type"),
            (spec.get("model") or {}).get("type"),
        )
        self.by_word = kinds == ("BertNormalizer", "BertPreTokenizer", "WordPiece")
        self._specials = len(tokenizer.encode("", add_special_tokens=True).ids)
        self._words: dict[str, int] = {}

    def _whole(self, texts: Sequence[str]) -> list[int]:
        encoded = self._tokenizer.encode_batch_fast(list(texts), add_special_tokens=True)
        return [len(e.ids) for e in encoded]

    def __call__(self, texts: Sequence[str]) -> list[int]:
        if not self.by_word:
            return self._whole(texts)
        words = self._words
        if len(words) > _MAX_WORDS:
            words.clear()
        split = [t.split() for t in texts]
        new = list({w for ws in split for w in ws if w not in words})
        if new:
            encoded = self._tokenizer.encode_batch_fast(new, add_special_tokens=False)
            words.update(zip(new, (len(e.ids) for e in encoded), strict=True))
        counts = [self._specials + sum(map(words.__getitem__, ws)) for ws in split]
        odd = [i for i, t in enumerate(texts) if _SPLIT_DIFFERS.search(t)]
        if odd:
            for i, n in zip(odd, self._whole([texts[i] for i in odd]), strict=True):
                counts[i] = n
        return counts
