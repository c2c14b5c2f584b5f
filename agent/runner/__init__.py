"""`steward run`, the long-running service: jobs on a schedule (`jobs`, `loop`), its
heartbeat (`health`), how `steward status` reads it (`status`), and the process
around them: lock, signals, the Discord bot (`serve`).
"""
