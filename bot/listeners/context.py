"""How listeners reach the app: ``bot.slack`` passes the AppContext into every Bolt request's ``context``
under ``CONTEXT_KEY``; lazy listeners get it too (Bolt deep-copies the context for them, and an AppContext
copies as itself)."""
from __future__ import annotations

from core.context import AppContext

CONTEXT_KEY = "mvse"


def app_context(context) -> AppContext:
    return context[CONTEXT_KEY]
