"""Steward: reads DAO proposals for people."""

__version__ = "0.1.0"
