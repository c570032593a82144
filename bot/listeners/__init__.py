"""Bolt listeners: commands (/search), actions (buttons), views (the caption modal). Each module holds
module-level listener functions and a ``register(app)`` that wires them."""
from bot.listeners import actions, commands, views


def register(app, command: str) -> None:
    commands.register(app, command)
    views.register(app)
    actions.register(app)  # last: it ends with the catch-all for unknown action ids
