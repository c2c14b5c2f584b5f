"""Simulation of on-chain proposals on a fork: what they really move, change and break.

The report model and the logic that reads it live here; the fork and the execution are
in `connectors/chain/` behind the `Simulator` port.
"""
