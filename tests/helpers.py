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


def wait_for(predicate, what: str, timeout: float = 15.0, interval: float = 0.05):
    """Poll predicate() until it returns something truthy (returned), or fail naming what was awaited."""
    import time

    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def video_segments(db, video_id: str) -> list[dict]:
    """A video's segments as the database has them now (start order, with members)."""
    from db.segments import get_segments

    with db.connection() as conn:
        ids = [r["id"] for r in conn.execute("SELECT id FROM segments WHERE video_id = %s", (video_id,)).fetchall()]
        return get_segments(conn, ids)


def video_spans(db, video_id: str) -> list[tuple[float, float]]:
    return [(s["start_s"], s["end_s"]) for s in video_segments(db, video_id)]


def segment_tags(db) -> dict[int, set[tuple[str, str]]]:
    """Every segment's member tags: segment id → {(member name, "auto" | "manual")}."""
    out: dict[int, set] = {}
    with db.connection() as conn:
        for r in conn.execute("SELECT sm.segment_id, m.name, sm.source FROM segment_members sm "
                              "JOIN members m ON m.id = sm.member_id"):
            out.setdefault(r["segment_id"], set()).add((r["name"], r["source"]))
    return out
