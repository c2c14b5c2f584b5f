"""Vectors over Chroma: embedded PersistentClient, or HttpClient for a server.

We always pass our own vectors: Chroma's default embedding function would try
to download a model.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from agent.errors import ConfigError, StoreError
from agent.ports import OldPassage, VectorKey

_MAX_BATCH = 2000
_MAX_IN = 500  # values per `$in` filter
HNSW_CONFIG: dict[str, Any] = {"hnsw": {"space": "cosine"}}
EF_SEARCH = 400
MAIN_HNSW_CONFIG: dict[str, Any] = {
    "hnsw": {"space": "cosine", "ef_search": EF_SEARCH, "max_neighbors": 32}
}
"""The main graph holds every space, so HNSW's approximation shows there. At 100k chunks
one graph with Chroma's defaults (ef_search 100, 16 neighbours) missed the exact top 5
proposals on 4 of 20 questions; a wider search and a better-connected graph miss on 1
(one passage, 0.0002 from the next), for under a millisecond more per query
(bench/search_scale.py)."""
LEAN_HNSW_CONFIG: dict[str, Any] = {
    "hnsw": {"space": "cosine", "ef_search": EF_SEARCH, "ef_construction": 50}
}
"""A space's graph is searched as widely: at 100k chunks (5k per space) the defaults matched
an exact ranking every time, but at 1M (50k per space) they missed on 2 of 20 questions.
It is built with half the default construction width (50): a write into it costs a
quarter less, and searched at ef 400 it still returns the exact top hits of a space
(bench/search_scale.py). It keeps 16 neighbours, which are cheaper to write."""


def open_chroma_client(*, url: str | None, path: Path) -> Any:
    """A Chroma client for a server URL, or an embedded one under `path`."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if url:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ConfigError(f"vector_store.url: {url!r} is not an http(s) URL")
        port = parsed.port or (443 if parsed.scheme == "https" else 8000)
        try:
            return chromadb.HttpClient(
                host=parsed.hostname, port=port, ssl=parsed.scheme == "https", settings=settings
            )
        except Exception as exc:  # chromadb raises plain Exceptions for connection errors
            raise StoreError(f"cannot reach the Chroma server at {url}: {exc}") from exc
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


class ChromaVectors:
    """Bare vectors in one cosine graph for all spaces, a graph per space, flagged apart.

    - `PREFIX.vectors`: every passage of an unflagged proposal. A query over all spaces
      is one unfiltered query here.
    - `PREFIX.vectors.<digest>`: the same vectors of one space. A query in a space is one
      unfiltered query in this small graph.
    - `PREFIX.vectors.flagged`: passages of flagged (spam) proposals, all spaces, with
      their space as metadata. The default search never looks there.

    No texts and no metadata in the two searched graphs: Chroma indexes every document
    and metadata value it is given, which made an add of a passage with text and
    metadata 4.8 times as slow as a bare vector (bench/pipeline_standin.py); the texts
    live in the record store. Why not one collection with a `where` on space: Chroma
    first turns the `where` into the set of matching rows, then walks its HNSW graph
    skipping every node outside that set; with a space holding 5 % of 100k passages that
    walk costs ten times an unfiltered query, and a `flagged: False` clause, which
    matches nearly every row, 300 ms just to build the set. Why not only a graph per
    space: a query over all of them costs one Chroma call per space.

    `collection` is the name prefix. Layouts from before (one collection named exactly
    `collection`; a full collection per space; `.all` with texts and metadata beside lean
    `.space.` graphs) are read back through `old_passages` so their passages move into the
    record store and their vectors into this layout, without re-embedding.
    """

    def __init__(self, client: Any, collection: str) -> None:
        self._client = client
        self._prefix = collection
        self._open: dict[str, Any] = {}

    # ---- layout ------------------------------------------------------------------
    @property
    def _main(self) -> str:
        return f"{self._prefix}.vectors"

    @property
    def _flagged(self) -> str:
        return f"{self._prefix}.vectors.flagged"

    def _lean(self, space: str) -> str:
        return f"{self._main}." + hashlib.sha256(space.encode()).hexdigest()[:20]

    def _config(self, name: str) -> dict[str, Any]:
        if name == self._main:
            return MAIN_HNSW_CONFIG
        return HNSW_CONFIG if name == self._flagged else LEAN_HNSW_CONFIG

    def _get(self, name: str, *, create: bool = False) -> Any | None:
        if name not in self._open:
            if create:
                col = self._client.get_or_create_collection(
                    name, embedding_function=None, configuration=self._config(name)
                )
            else:
                try:
                    col = self._client.get_collection(name, embedding_function=None)
                except _missing():
                    return None
            self._widen_search(col, self._config(name))
            self._open[name] = col
        return self._open[name]

    @staticmethod
    def _widen_search(col: Any, config: dict[str, Any]) -> None:
        """A collection made before its search width was raised gets it now (Chroma keeps
        a collection's first configuration; `ef_search` is one it lets us change)."""
        wanted = config["hnsw"].get("ef_search")
        hnsw = (getattr(col, "configuration", None) or {}).get("hnsw") or {}
        if wanted and hnsw.get("ef_search", wanted) < wanted:
            col.modify(configuration={"hnsw": {"ef_search": wanted}})

    def _names(self) -> list[str]:
        """Every collection under the prefix (listed anew: another process may add spaces)."""
        names = (str(getattr(col, "name", col)) for col in self._client.list_collections())
        return [n for n in names if n == self._prefix or n.startswith(self._prefix + ".")]

    def _existing(self, names: Sequence[str]) -> list[Any]:
        found = (self._get(n) for n in names)
        return [c for c in found if c is not None]

    def _homes(self, key: VectorKey) -> list[str]:
        """The collections a vector under this key lives in."""
        return [self._flagged] if key.flagged else [self._main, self._lean(key.space)]

    # ---- writes ------------------------------------------------------------------
    def put(self, keys: Sequence[VectorKey], vectors: Sequence[Sequence[float]]) -> None:
        by_home: dict[str, list[tuple[VectorKey, Sequence[float]]]] = {}
        for key, vector in zip(keys, vectors, strict=True):
            for home in self._homes(key):
                by_home.setdefault(home, []).append((key, vector))
        self._write_homes(by_home)

    def _write_homes(self, by_home: dict[str, list[tuple[VectorKey, Sequence[float]]]]) -> None:
        """Main first: after a crash between the two, the passage's next write or drop
        reaches every home again, so the copies cannot drift for long."""
        for name in sorted(by_home, key=lambda n: n != self._main):
            self._upsert(name, by_home[name])

    def _upsert(self, name: str, rows: list[tuple[VectorKey, Sequence[float]]]) -> None:
        col: Any = self._get(name, create=True)
        for start in range(0, len(rows), _MAX_BATCH):
            part = rows[start : start + _MAX_BATCH]
            vectors = np.asarray([v for _, v in part], dtype=np.float32)
            ids = [k.id for k, _ in part]
            if name == self._flagged:
                col.upsert(
                    ids=ids, embeddings=vectors, metadatas=[{"space": k.space} for k, _ in part]
                )
            else:
                col.upsert(ids=ids, embeddings=vectors)

    def _delete_homes(self, by_home: dict[str, list[str]]) -> None:
        for name, ids in by_home.items():
            col = self._get(name)
            if col is not None:
                for start in range(0, len(ids), _MAX_BATCH):
                    col.delete(ids=ids[start : start + _MAX_BATCH])

    def drop(self, keys: Sequence[VectorKey]) -> None:
        by_home: dict[str, list[str]] = {}
        for key in keys:
            for home in self._homes(key):
                by_home.setdefault(home, []).append(key.id)
        self._delete_homes(by_home)

    def move(self, moves: Sequence[tuple[VectorKey, VectorKey]]) -> None:
        found = self._any([new.id for _, new in moves])
        present = [(old, new) for old, new in moves if new.id in found]
        adds: dict[str, list[tuple[VectorKey, Sequence[float]]]] = {}
        drops: dict[str, list[str]] = {}
        for old, new in present:
            before, after = set(self._homes(old)), set(self._homes(new))
            for home in after - before:
                adds.setdefault(home, []).append((new, found[new.id]))
            for home in before - after:
                drops.setdefault(home, []).append(old.id)
        self._write_homes(adds)
        self._delete_homes(drops)

    # ---- reads -------------------------------------------------------------------
    def _any(self, ids: Sequence[str]) -> dict[str, list[float]]:
        """Vectors by id from the main or the flagged collection, wherever they are."""
        return self._fetch([self._main, self._flagged], ids)

    def _fetch(self, names: Sequence[str], ids: Sequence[str]) -> dict[str, list[float]]:
        found: dict[str, list[float]] = {}
        for col in self._existing(names):
            wanted = [i for i in dict.fromkeys(ids) if i not in found]
            for start in range(0, len(wanted), _MAX_BATCH):
                got = col.get(ids=wanted[start : start + _MAX_BATCH], include=["embeddings"])
                for cid, vector in zip(got["ids"], got["embeddings"], strict=True):
                    found[cid] = [float(x) for x in vector]
        return found

    def get(self, keys: Sequence[VectorKey]) -> dict[str, list[float]]:
        plain = [k.id for k in keys if not k.flagged]
        flagged = [k.id for k in keys if k.flagged]
        found = self._fetch([self._main], plain) if plain else {}
        if flagged:
            found.update(self._fetch([self._flagged], flagged))
        return found

    def nearest(
        self,
        vector: Sequence[float],
        *,
        limit: int,
        spaces: Sequence[str] = (),
        include_flagged: bool = False,
    ) -> list[tuple[str, float]]:
        query = [np.asarray(vector, dtype=np.float32)]
        graphs = (
            self._existing([self._lean(s) for s in dict.fromkeys(spaces)])
            if spaces
            else self._existing([self._main])
        )
        near: list[tuple[float, str]] = []
        for col in graphs:
            got = col.query(query_embeddings=query, n_results=limit, include=["distances"])
            near += zip(got["distances"][0], got["ids"][0], strict=True)
        flagged = self._get(self._flagged) if include_flagged else None
        if flagged is not None:
            where = self._where_in("space", spaces) if spaces else None
            got = flagged.query(
                query_embeddings=query, n_results=limit, where=where, include=["distances"]
            )
            near += zip(got["distances"][0], got["ids"][0], strict=True)
        return [(cid, float(d)) for d, cid in sorted(near)[:limit]]

    @staticmethod
    def _where_in(key: str, values: Sequence[str]) -> dict[str, Any]:
        values = list(dict.fromkeys(values))
        return {key: values[0] if len(values) == 1 else {"$in": values}}

    def count(self) -> int:
        return sum(int(col.count()) for col in self._existing([self._main, self._flagged]))

    def heartbeat(self) -> None:
        """One round trip to the server (a no-op on disk for the embedded client)."""
        try:
            self._client.heartbeat()
        except Exception as exc:  # chromadb raises plain Exceptions for connection errors
            raise StoreError(f"the Chroma server does not answer ({type(exc).__name__})") from exc

    # ---- layouts from before ---------------------------------------------------------
    def _old_full(self) -> list[str]:
        """Collections of older layouts that hold texts and metadata."""
        p = re.escape(self._prefix)
        old = re.compile(rf"{p}(\.[0-9a-f]{{20}}(\.flagged)?|\.all|\.flagged)?")
        return [n for n in self._names() if old.fullmatch(n)]

    def old_passages(self) -> list[OldPassage]:
        """Several workers may open an old index at once: a collection another one emptied
        and dropped meanwhile is simply gone (every write of the move is idempotent)."""
        for name in self._old_full():
            try:
                col = self._client.get_collection(name, embedding_function=None)
                got = col.get(limit=_MAX_BATCH, include=["embeddings", "documents", "metadatas"])
            except _missing():
                continue
            if got["ids"]:
                return [
                    OldPassage(cid, [float(x) for x in vector], doc or "", dict(meta or {}))
                    for cid, vector, doc, meta in zip(
                        got["ids"],
                        got["embeddings"],
                        got["documents"],
                        got["metadatas"],
                        strict=True,
                    )
                ]
            self._delete_collection(name)
        for name in self._names():  # the lean graphs of the layout before: vectors only
            if name.startswith(f"{self._prefix}.space."):
                self._delete_collection(name)
        return []

    def forget_old(self, ids: Sequence[str]) -> None:
        for name in self._old_full():
            try:
                self._client.get_collection(name, embedding_function=None).delete(ids=list(ids))
            except _missing():
                continue

    def _delete_collection(self, name: str) -> None:
        try:
            self._client.delete_collection(name)
        except _missing():
            pass


def _missing() -> tuple[type[Exception], ...]:
    """What Chroma raises for a collection that does not exist (it changed across versions)."""
    from chromadb.errors import NotFoundError

    return (NotFoundError, ValueError)
