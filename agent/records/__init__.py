"""Records the store keeps for the layers above it: assessments and simulation reports.

They sit below the record store (they import only `agent.models` and the decoded
action type) so the store can persist them without importing analysis or simulation.
"""
