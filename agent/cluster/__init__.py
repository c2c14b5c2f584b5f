"""Cluster mode: several `steward run` workers sharing one deployment through the database.

`worker` (registration, leases and their renewal, the database going away),
`jobs` (the runner's jobs split into leased units), `leader` (the Discord bot in one
worker), `vote_locks` (per-vote locks as leases, fenced), `rate_budget` (one request
budget for all workers), `serve` (`steward run` in cluster mode), `status`.
"""
