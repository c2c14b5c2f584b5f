"""Table definitions. Changing them means adding a migration in `migrations.py`."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("applied_at", Integer, nullable=False),
)

spaces = Table(
    "spaces",
    metadata,
    Column("source", String(20), primary_key=True),
    Column("id", String(300), primary_key=True),
    Column("data", JSON, nullable=False),
    Column("flagged", Boolean, nullable=False, default=False),
    Column("updated_at", Integer, nullable=False),
)

proposals = Table(
    "proposals",
    metadata,
    Column("uid", String(400), primary_key=True),
    Column("source", String(20), nullable=False),
    Column("space", String(300), nullable=False),
    Column("id", String(300), nullable=False),
    Column("title", Text, nullable=False),
    Column("state", String(20), nullable=False),
    Column("created_ts", Integer, nullable=False),
    Column("end_ts", Integer),
    Column("flagged", Boolean, nullable=False, default=False),
    Column("content_hash", String(64), nullable=False),
    Column("data", JSON, nullable=False),
    Column("first_seen", Integer, nullable=False),
    Column("last_seen", Integer, nullable=False),
    Column("deleted_at", Integer),
    Column("votes_complete", Boolean, nullable=False, default=False),
    # What the vector index holds for this proposal (null: nothing).
    Column("indexed_hash", String(64)),
    Column("indexed_state", String(20)),
    Column("indexed_flagged", Boolean),
    Column("indexed_chunks", Integer, nullable=False, default=0),
    Index("ix_proposals_source_space", "source", "space"),
    Index("ix_proposals_id", "id"),
    Index("ix_proposals_state", "state"),
)

proposal_history = Table(
    "proposal_history",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("uid", String(400), nullable=False),
    Column("at", Integer, nullable=False),
    Column("kind", String(20), nullable=False),  # created | edited | deleted | restored
    Column("content_hash", String(64), nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_history_uid", "uid"),
)

votes = Table(
    "votes",
    metadata,
    Column("proposal_uid", String(400), primary_key=True),
    Column("voter", String(200), primary_key=True),
    Column("id", String(300), nullable=False),
    Column("source", String(20), nullable=False),
    Column("space", String(300), nullable=False),
    Column("choice", JSON, nullable=False),
    Column("voting_power", Float, nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("created_ts", Integer, nullable=False),
    Column("block", Integer),  # chain votes only (m004): what a reorg rewinds
)

cursors = Table(
    "cursors",
    metadata,
    Column("source", String(20), primary_key=True),
    Column("scope", String(500), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("updated_at", Integer, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(20), nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("started_at", Integer, nullable=False),
    Column("finished_at", Integer),
    Column("status", String(20), nullable=False),  # running | ok | failed
    Column("counts", JSON),
    Column("error", Text),
    # Who runs it and when it last made progress: a crashed run is told from a live one.
    Column("pid", Integer),
    Column("host", String(255)),
    Column("seen_at", Integer),
)

assessments = Table(
    "assessments",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("proposal_uid", String(400), nullable=False),
    Column("policy_id", String(100), nullable=False),
    Column("policy_hash", String(64), nullable=False),
    Column("analyst", String(200), nullable=False),
    Column("prompt_hash", String(64), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("recommendation", String(10), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("created_ts", Integer, nullable=False),
    Column("data", JSON, nullable=False),
    Index("ix_assessments_lookup", "proposal_uid", "policy_id"),
)

backtests = Table(
    "backtests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("voter", String(200), nullable=False),
    Column("space", String(300)),
    Column("analyst", String(200), nullable=False),
    Column("prompt_hash", String(64), nullable=False),
    Column("policy_id", String(100), nullable=False),
    Column("policy_hash", String(64), nullable=False),
    Column("n", Integer, nullable=False),
    Column("coverage", Float),
    Column("agreement", Float),
    Column("kappa", Float),
    Column("created_ts", Integer, nullable=False),
    Column("data", JSON, nullable=False),
    Index("ix_backtests_identity", "analyst", "prompt_hash", "policy_hash"),
)

posts = Table(
    "posts",
    metadata,
    # What was (to be) posted, e.g. `alert:<channel>:<uid>`: one row per post, ever.
    Column("key", String(500), primary_key=True),
    Column("target", String(300), nullable=False),
    Column("kind", String(30), nullable=False),  # digest | alert | reminder
    Column("status", String(20), nullable=False),  # pending | posted | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("payload", JSON, nullable=False),
    Column("error", Text),
    Column("created_ts", Integer, nullable=False),
    Column("updated_ts", Integer, nullable=False),
    Index("ix_posts_status", "status"),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("channel", String(100), primary_key=True),
    Column("space", String(300), primary_key=True),
    Column("created_ts", Integer, nullable=False),
)

vote_intents = Table(
    "vote_intents",
    metadata,
    # One row per vote Steward means to cast; the unique index below makes "never twice"
    # a database fact, not a hope: a second process's insert fails.
    Column("id", String(64), primary_key=True),
    Column("delegate", String(200), nullable=False),
    Column("target", String(10), nullable=False),  # snapshot | chain
    Column("proposal_uid", String(400), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("choice", JSON, nullable=False),
    Column("reason", Text, nullable=False),
    Column("provenance_hash", String(64), nullable=False),
    # intended | submitted | confirmed | failed | skipped | reconciled_existing
    Column("status", String(30), nullable=False),
    Column("external_ref", String(300)),  # Snapshot receipt id or transaction hash
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text),  # sanitized by the caller: never a secret
    Column("created_ts", Integer, nullable=False),
    Column("updated_ts", Integer, nullable=False),
    Column("submitted_ts", Integer),
    Column("confirmed_ts", Integer),
    Column("bundle", JSON, nullable=False),
    Index("uq_vote_intents_delegate_proposal", "delegate", "proposal_uid", unique=True),
    Index("ix_vote_intents_status", "status"),
)

audit_log = Table(
    "audit_log",
    metadata,
    # Append-only and hash-chained: `hash` covers this row and `prev_hash`, the row before.
    # `seq` is assigned by the writer (no autoincrement), so two writers racing for the
    # same seq collide on the primary key and one retries on the new head.
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("ts", Integer, nullable=False),
    Column("kind", String(30), nullable=False),
    Column("delegate", String(200)),
    Column("proposal_uid", String(400)),
    Column("data", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_log_proposal", "proposal_uid"),
)

vote_decisions = Table(
    "vote_decisions",
    metadata,
    # What Steward decided for one delegate on one version of a proposal, and what the
    # delegate said about it. A new version (content hash) needs a new decision.
    Column("id", String(64), primary_key=True),
    Column("delegate", String(200), nullable=False),
    Column("proposal_uid", String(400), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("mode", String(20), nullable=False),  # dry-run | approval | auto
    # awaiting_approval | approved | vetoed | scheduled | dry_run | blocked | cast |
    # superseded | expired
    Column("status", String(30), nullable=False),
    Column("choice_label", String(300)),
    Column("choice", Integer),  # 1-based index into the proposal's choices
    Column("confidence", Float, nullable=False),
    Column("cast_after_ts", Integer),
    Column("decided_by", String(100)),
    Column("decided_ts", Integer),
    Column("message_ref", String(100)),  # the Discord message carrying the buttons
    Column("data", JSON, nullable=False),  # blockers, provenance hash, reason, bundle
    Column("created_ts", Integer, nullable=False),
    Column("updated_ts", Integer, nullable=False),
    Index(
        "uq_vote_decisions_version", "delegate", "proposal_uid", "content_hash", "mode", unique=True
    ),
    Index("ix_vote_decisions_status", "status"),
)

simulations = Table(
    "simulations",
    metadata,
    # Every fork simulation of a proposal (or why there is none); the newest per proposal is
    # current. `report_hash` versions the findings, `content_hash` the proposal they are of.
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("proposal_uid", String(400), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("report_hash", String(64), nullable=False),
    Column("status", String(20), nullable=False),  # simulated | not_simulated
    Column("fork_block", Integer),
    Column("created_ts", Integer, nullable=False),
    Column("data", JSON, nullable=False),
    Index("ix_simulations_uid", "proposal_uid", "seq"),
)

# Passages (chunks) of indexed proposals: their text and where their vector lives. The
# vector index keeps only vectors under `chunk_id` (issue 14: Chroma writes a row with
# text and metadata at a fifth of the rate of a bare vector). Created by migration m013.
passages = Table(
    "passages",
    metadata,
    Column("chunk_id", String(420), primary_key=True),
    Column("proposal_uid", String(400), nullable=False),
    Column("space", String(300), nullable=False),
    Column("flagged", Boolean, nullable=False, default=False),
    Column("chunk", Integer, nullable=False),
    Column("text_key", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Index("ix_passages_uid", "proposal_uid", "chunk"),
    Index("ix_passages_text_key", "text_key"),
)

# The full-text index's documents: one per live proposal, with the content hash it was
# built from. SQLite keeps the words in the FTS5 table `text_fts` (rowid = id); PostgreSQL
# in this table's `tsv` column. Both are created by migration m010 (dialect specific).
text_docs = Table(
    "text_docs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uid", String(400), nullable=False, unique=True),
    Column("space", String(300), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Index("ix_text_docs_space", "space"),
)
