"""Plain helpers for tests (fixtures live in conftest.py)."""
from __future__ import annotations

import socket
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ASSETS = REPO.parent / "shared" / "assets"
ARTIFACTS = REPO / "test-artifacts"


def asset(relpath: str) -> Path:
    """Path of a file in ../shared/assets, or skip the test naming what is missing."""
    p = ASSETS / relpath
    if not p.exists():
        pytest.skip(f"asset {relpath} is not present in {ASSETS} (see SOURCES.md)")
    return p


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
