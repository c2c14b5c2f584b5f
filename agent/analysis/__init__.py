"""Analysis: summarise proposals and score them against a delegate's policy."""
