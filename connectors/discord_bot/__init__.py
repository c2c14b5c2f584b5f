"""Steward on Discord: slash commands and the scheduled poster.

Thin adapters only. What to say lives in `agent/chat` (plain functions, tested
without Discord); this package parses interactions, calls those functions and
sends what they return, always with mentions disabled.
"""
