"""Bolt listeners: commands (/search, /highlights), actions (buttons), views (the caption modal). Each module
holds module-level listener functions and a ``register(app)`` that wires them."""
from bot.listeners import actions, commands, highlighting, views


def register(app, command: str, highlights_command: str) -> None:
    commands.register(app, command)
    highlighting.register(app, highlights_command)
    views.register(app)
    actions.register(app)  # last: it ends with the catch-all for unknown action ids
