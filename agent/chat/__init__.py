"""Chat-facing logic (Discord and webhooks) as plain functions: builders, answers, schedule.

Nothing here imports discord.py; connectors adapt these to Discord.
"""
