"""Slack bot (Bolt for Python, HTTP mode)."""
