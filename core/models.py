"""The base of every model the app runs (text embedder, captioner, face model), and where it comes from.

A model is configured by a *source*: a hub name (downloaded once by its library and cached) or a local
folder (relative paths are relative to the config file, ``Config.resolve_path``). ``LazyModel`` loads on
first use, once per process, under a lock; any failure to load becomes one ``ModelUnavailable`` naming the
model, what went wrong and the fix (``fix`` of the subclass). Subclasses implement ``_load``.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Generic, TypeVar

from core.errors import ModelUnavailable, first_line

T = TypeVar("T")


def model_source(cfg, value: str) -> str:
    """A local folder's absolute path when ``value`` names an existing folder (relative to the config file),
    else ``value`` unchanged: a hub name."""
    local = cfg.resolve_path(value)
    return str(local) if local.is_dir() else value


def is_local(source: str) -> bool:
    return Path(source).expanduser().is_dir()


class LazyModel(Generic[T]):
    """A model loaded on first use. ``kind`` and ``fix`` make the error message when loading fails."""

    kind = "model"
    fix = "check the model's name or folder in the config"

    def __init__(self, source: str):
        self.name = source
        self._loaded: T | None = None
        self._lock = threading.Lock()

    def _load(self) -> T:
        raise NotImplementedError

    def load(self) -> T:
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    try:
                        self._loaded = self._load()
                    except ModelUnavailable:
                        raise
                    except Exception as err:  # noqa: BLE001 - hub unreachable, missing files, bad folder: one message
                        raise ModelUnavailable(
                            f"Cannot load the {self.kind} {self.name!r} ({first_line(err)}). Fix: {self.fix}"
                        ) from err
        return self._loaded


def set_torch_threads(threads: int | None) -> None:
    """Models share the machine's cores with the database and the web server: keep torch to ``threads``."""
    if threads:
        import torch

        torch.set_num_threads(threads)
