"""Every configured model checked before any work starts, and all that are missing reported in one message.

A model is *available* when it can be loaded without waiting on the network: a complete local folder, a hub model
already in the Hugging Face cache, a model inside an installed pip package, or a hub model while the hub answers
(it is then downloaded on first use). Each model class says where it looks (``LazyModel.unavailable``).

The hub is asked once per process, with a short timeout (``HUB_TIMEOUT_S``). When it does not answer, the process
goes offline for good (``HF_HUB_OFFLINE``): no later load retries the hub, so a missing model fails in
milliseconds instead of a minute of retried requests per search, and ``/healthz`` and the pages say so.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from core.errors import ModelUnavailable

HUB_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class HubState:
    reachable: bool
    detail: str         # why not, or where it was reached


_hub: HubState | None = None
_hub_lock = threading.Lock()


def hub_state() -> HubState:
    """Whether the Hugging Face hub answers, asked once per process (``HF_HUB_OFFLINE=1``: not asked)."""
    global _hub
    with _hub_lock:
        if _hub is None:
            _hub = _ask_hub()
            if not _hub.reachable:
                go_offline()
        return _hub


def _ask_hub() -> HubState:
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return HubState(False, "offline mode (HF_HUB_OFFLINE=1)")
    import httpx

    try:
        httpx.head(constants.ENDPOINT, timeout=HUB_TIMEOUT_S, follow_redirects=True)
    except httpx.HTTPError as err:
        return HubState(False, f"{constants.ENDPOINT} could not be reached (waited at most {HUB_TIMEOUT_S:g} s: "
                               f"{type(err).__name__}: {str(err)[:120]})")
    return HubState(True, constants.ENDPOINT)


def hub_note() -> str:
    """What this process knows of the hub, without asking it."""
    if _hub is None:
        return "not needed so far"
    return "reachable" if _hub.reachable else f"unreachable, working offline: {_hub.detail}"


def go_offline() -> None:
    """From now on this process never asks the hub: libraries load from the cache only (and fail at once)."""
    from huggingface_hub import constants

    os.environ["HF_HUB_OFFLINE"] = "1"
    constants.HF_HUB_OFFLINE = True


def hub_cache() -> str:
    from huggingface_hub import constants

    return constants.HF_HUB_CACHE


def cached_on_hub(repo_id: str) -> bool:
    """Whether a hub model is in the local Hugging Face cache (its config.json is)."""
    from huggingface_hub import try_to_load_from_cache

    try:
        return isinstance(try_to_load_from_cache(repo_id, "config.json"), str)
    except Exception:  # noqa: BLE001 - not a valid repo id: not cached
        return False


@dataclass(frozen=True)
class Missing:
    key: str            # the config key that names it
    kind: str
    name: str
    where: str          # where it was looked for
    fix: str
    alternatives: str   # what works offline instead


class ModelsMissing(ModelUnavailable):
    """Some configured models cannot be loaded; the message lists every one of them."""

    def __init__(self, missing: list[Missing]):
        self.missing = missing
        super().__init__(describe(missing))


def describe(missing: list[Missing]) -> str:
    lines = [f"{len(missing)} configured model{'s are' if len(missing) > 1 else ' is'} not available:"]
    for m in missing:
        lines += [f"  - {m.kind} {m.name!r} ({m.key}): {m.where}.",
                  f"    Fix: {m.fix}"]
        if m.alternatives:
            lines.append(f"    Offline instead: {m.alternatives}")
    return "\n".join(lines)


def find_missing(models: dict[str, object]) -> list[Missing]:
    """The models (config key → model; None: not configured) that cannot be loaded now; each is told so
    (``LazyModel.known_missing``), and fails at once when used. A model without ``unavailable`` (a test double)
    counts as available."""
    missing = []
    for key, model in models.items():
        where = model.unavailable() if hasattr(model, "unavailable") else None
        if where:
            missing.append(Missing(key, model.kind, model.name, where, model.fix, model.alternatives))
            model.known_missing(where)
    return missing


def check_models(models: dict[str, object]) -> None:
    """Raise ``ModelsMissing`` naming every unavailable model (see ``find_missing``)."""
    missing = find_missing(models)
    if missing:
        raise ModelsMissing(missing)
