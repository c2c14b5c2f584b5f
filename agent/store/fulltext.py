"""A full-text (BM25) index of proposals inside the record store, for hybrid search.

Dense search finds passages that mean the same; a member's question often shares
rare, exact words with the proposal it wants instead (a token symbol, a core-unit
code, a parameter name) that an embedding blurs. SQLite's FTS5 ranks by BM25;
PostgreSQL ranks its `tsvector` with `ts_rank`. One document per live proposal,
the title weighted above the body.

Kept in step by content hash (`text_docs.content_hash`), not by the vector
index's bookkeeping: a re-run with nothing changed writes nothing, and a store
created before this index existed fills it on the next sync without re-embedding.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, Engine, bindparam, text

TITLE_WEIGHT = 4.0
"""BM25 weight of a title word relative to a body word (FTS5 column weights)."""
_MAX_BODY_CHARS = 200_000  # PostgreSQL's tsvector holds at most 1 MB; BM25 needs no more
_MAX_TERMS = 48
_BATCH = 200
_WORD = re.compile(r"[^\W_]+")
# Function words: they match nearly every document and only cost time in an OR query.
_STOPWORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "our",
        "should",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "this",
        "to",
        "was",
        "we",
        "what",
        "when",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
    }
)


class TextHit(BaseModel):
    """A proposal found by its words; higher `score` is better (scale depends on the index)."""

    model_config = ConfigDict(frozen=True)
    uid: str
    space: str
    score: float


class TextSyncCounts(BaseModel):
    indexed: int = 0
    removed: int = 0


def query_terms(query: str) -> list[str]:
    """The query's distinct content words, lower-cased, in order."""
    words = (w for w in _WORD.findall(query.lower()) if len(w) > 1 and w not in _STOPWORDS)
    return list(dict.fromkeys(words))[:_MAX_TERMS]


class FullText:
    """Mixed into RecordStore; needs `self.engine`."""

    engine: Engine

    def sync_text_index(self) -> TextSyncCounts:
        """Index live proposals whose content changed; drop deleted or vanished ones."""
        counts = TextSyncCounts()
        with self.engine.begin() as conn:
            gone = conn.execute(
                text(
                    "SELECT d.id FROM text_docs d LEFT JOIN proposals p ON p.uid = d.uid "
                    "WHERE p.uid IS NULL OR p.deleted_at IS NOT NULL"
                )
            ).scalars()
            for doc_id in list(gone):
                self._drop(conn, doc_id)
                counts.removed += 1
        while True:
            with self.engine.begin() as conn:
                rows = conn.execute(
                    text(
                        "SELECT p.uid, p.space, p.content_hash, p.data, d.id AS doc_id "
                        "FROM proposals p LEFT JOIN text_docs d ON d.uid = p.uid "
                        "WHERE p.deleted_at IS NULL "
                        "AND (d.id IS NULL OR d.content_hash <> p.content_hash) "
                        f"LIMIT {_BATCH}"
                    )
                ).all()
                for row in rows:
                    self._write(conn, row)
                counts.indexed += len(rows)
            if len(rows) < _BATCH:
                return counts

    def text_search(
        self,
        query: str,
        *,
        limit: int,
        spaces: Sequence[str] = (),
        include_flagged: bool = False,
    ) -> list[TextHit]:
        """Best proposals for `query` by BM25 (OR of its content words), best first."""
        terms = query_terms(query)
        if not terms:
            return []
        where = ["p.deleted_at IS NULL"]
        params: dict[str, Any] = {"n": limit}
        if spaces:
            where.append("d.space IN :spaces")
            params["spaces"] = list(spaces)
        if not include_flagged:
            where.append("p.flagged = :no")
            params["no"] = False
        with self.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                sql = (
                    f"SELECT d.uid, d.space, -bm25(text_fts, {TITLE_WEIGHT}, 1.0) AS score "
                    "FROM text_fts JOIN text_docs d ON d.id = text_fts.rowid "
                    "JOIN proposals p ON p.uid = d.uid WHERE text_fts MATCH :q AND "
                )
                params["q"] = " OR ".join(f'"{t}"' for t in terms)
            else:
                sql = (
                    "SELECT d.uid, d.space, ts_rank(d.tsv, q, 1) AS score FROM text_docs d "
                    "JOIN proposals p ON p.uid = d.uid, to_tsquery('english', :q) q "
                    "WHERE d.tsv @@ q AND "
                )
                params["q"] = " | ".join(terms)
            stmt = text(sql + " AND ".join(where) + " ORDER BY score DESC LIMIT :n")
            if spaces:
                stmt = stmt.bindparams(bindparam("spaces", expanding=True))
            rows = conn.execute(stmt, params).all()
        return [TextHit(uid=r.uid, space=r.space, score=float(r.score)) for r in rows]

    def _write(self, conn: Connection, row: Any) -> None:
        from agent.chunking import clean_text  # chunking imports the ports, which import us

        data = json.loads(row.data) if isinstance(row.data, str) else row.data
        title = clean_text(str(data.get("title", "")))
        body = clean_text(str(data.get("body", ""))[:_MAX_BODY_CHARS])
        if row.doc_id is not None:
            self._drop(conn, row.doc_id)
        values = {"uid": row.uid, "space": row.space, "hash": row.content_hash}
        if conn.dialect.name == "sqlite":
            doc_id = conn.execute(
                text(
                    "INSERT INTO text_docs (uid, space, content_hash) "
                    "VALUES (:uid, :space, :hash) RETURNING id"
                ),
                values,
            ).scalar_one()
            conn.execute(
                text("INSERT INTO text_fts (rowid, title, body) VALUES (:id, :title, :body)"),
                {"id": doc_id, "title": title, "body": body},
            )
        else:
            conn.execute(
                text(
                    "INSERT INTO text_docs (uid, space, content_hash, tsv) VALUES (:uid, :space, "
                    ":hash, setweight(to_tsvector('english', :title), 'A') || "
                    "setweight(to_tsvector('english', :body), 'B'))"
                ),
                {**values, "title": title, "body": body},
            )

    def _drop(self, conn: Connection, doc_id: int) -> None:
        if conn.dialect.name == "sqlite":
            conn.execute(text("DELETE FROM text_fts WHERE rowid = :id"), {"id": doc_id})
        conn.execute(text("DELETE FROM text_docs WHERE id = :id"), {"id": doc_id})
