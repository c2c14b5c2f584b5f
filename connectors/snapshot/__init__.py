"""Snapshot: the hub's GraphQL API as a ProposalSource."""

from connectors.snapshot.client import HubClient
from connectors.snapshot.source import SnapshotSource

__all__ = ["HubClient", "SnapshotSource"]
