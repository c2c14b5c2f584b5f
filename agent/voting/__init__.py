"""Delegated voting: the bookkeeping that keeps a vote single, traceable and on policy.

`models` (intents, audit entries), `intents` (status rules, redaction), `audit`
(the hash chain and its head file), `provenance` (what a vote rests on), `lock`
(one process per data directory, one voter per proposal), and their SQL side over the
store's tables: `intent_store` (intents) and `audit_log` (the chain's rows).
"""
