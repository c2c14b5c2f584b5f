"""Backtests: replay an analyst over an address's past votes, in time order, and score it."""
