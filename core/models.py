"""The base of every model the app runs (text embedder, captioner, face model), and where it comes from.

A model is configured by a *source*: a hub name (downloaded once by its library and cached) or a local
folder (relative paths are relative to the config file, ``Config.resolve_path``). ``LazyModel`` loads on
first use, once per process, under a lock; any failure to load becomes one ``ModelUnavailable`` naming the
model, what went wrong and the fix (``fix`` of the subclass), and is remembered: the next use fails at once
instead of trying again (a hub that did not answer would otherwise be waited on for every search). Subclasses
implement ``_load``, and ``unavailable`` when they look for their files elsewhere than a folder or the Hugging
Face hub (``core.model_check`` asks every model before work starts).
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
    """A model loaded on first use. ``kind``, ``fix`` and ``alternatives`` (what works offline instead) make the
    messages when it cannot be loaded."""

    kind = "model"
    fix = "check the model's name or folder in the config"
    alternatives = ""

    def __init__(self, source: str):
        self.name = source
        self._loaded: T | None = None
        self._failure: ModelUnavailable | None = None
        self._lock = threading.Lock()

    def _load(self) -> T:
        raise NotImplementedError

    def unavailable(self) -> str | None:
        """Where the model was looked for and not found, or None when it can be loaded now: a local folder, a hub
        model in the Hugging Face cache, or one the hub can send (asked once per process)."""
        from core.model_check import cached_on_hub, hub_cache, hub_state

        if is_local(self.name) or cached_on_hub(self.name):
            return None
        if Path(self.name).expanduser().is_absolute():
            return f"there is no folder {self.name}"
        hub = hub_state()
        if hub.reachable:
            return None
        return (f"it is not a folder, nor in the Hugging Face cache ({hub_cache()}), and the hub cannot be asked: "
                f"{hub.detail}")

    def known_missing(self, where: str) -> None:
        """Found unavailable by the up-front check (``core.model_check``): every use fails at once with this, instead
        of importing the libraries to find the same."""
        with self._lock:
            self._failure = ModelUnavailable(f"Cannot load the {self.kind} {self.name!r}: {where}. Fix: {self.fix} "
                                             "Then restart (the failure is remembered until then).")

    def load(self) -> T:
        if self._loaded is None:
            with self._lock:
                if self._failure is not None:      # a fresh exception: re-raising one would grow its traceback
                    raise ModelUnavailable(self._failure.message)
                if self._loaded is None:
                    try:
                        self._loaded = self._load()
                    except ModelUnavailable as err:
                        self._failure = err
                        raise
                    except Exception as err:  # noqa: BLE001 - hub unreachable, missing files, bad folder: one message
                        self._failure = ModelUnavailable(
                            f"Cannot load the {self.kind} {self.name!r} ({first_line(err)}). Fix: {self.fix} "
                            "Then restart (the failure is remembered until then).")
                        raise ModelUnavailable(self._failure.message) from err
        return self._loaded


def set_torch_threads(threads: int | None) -> None:
    """Models share the machine's cores with the database and the web server: keep torch to ``threads``."""
    if threads:
        import torch

        torch.set_num_threads(threads)
