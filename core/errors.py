"""Errors shared across the packages; each message names the thing and the fix."""


class MvseError(Exception):
    """Base class for errors meant to be shown to a user as they are."""


class ModelUnavailable(MvseError):
    """A configured model cannot be loaded (absent offline, wrong folder, missing files)."""


class EmbeddingModelMismatch(MvseError):
    """The database holds embeddings of another model or dimension than the configured one."""
