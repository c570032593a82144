"""Bolt listeners: commands (/search), actions (buttons), views (the caption modal)."""
from bot.listeners import actions, commands, views


def register(app, ctx) -> None:
    commands.register(app, ctx)
    views.register(app, ctx)
    actions.register(app, ctx)  # last: it ends with the catch-all for unknown action ids
