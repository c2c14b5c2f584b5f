"""The record store: structured state in SQL (SQLite by default, PostgreSQL too)."""

from agent.store.records import CursorUpdate, ProposalRef, RecordStore, StoredProposal

__all__ = ["CursorUpdate", "ProposalRef", "RecordStore", "StoredProposal"]
