"""Who decides: delegate records, voting-power concentration and sybil-like signals.

Pure computations over stored votes (`agent.store.vote_queries`); `service.py` reads
the store and caches. Nothing here calls a model or the network.
"""
