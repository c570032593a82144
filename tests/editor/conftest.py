"""Fixtures of the editor tests: an AppContext over the test database, a small seeded video."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.factories import add_member, add_segment, add_video


@pytest.fixture
def ctx(config, db, tiny_embedder):
    from core.context import AppContext

    return AppContext(config=config, db=db, embedder=tiny_embedder)


@pytest.fixture
def seeded(db, tiny_embedder):
    """Video v1 (60 s) with three touching segments 0-4, 4-8, 8-12 and video v2 with one; members enrolled."""
    with db.connection() as conn:
        add_video(conn, "v1", title="Stage one", duration_s=60.0, shot_boundaries=[4.0, 8.0, 10.5])
        add_video(conn, "v2", title="Other", duration_s=30.0)
        add_member(conn, "Hanni", ["하니"])
        add_member(conn, "Minji", ["민지"])
        add_member(conn, "Danielle")
        ids = [
            add_segment(conn, "v1", 0.0, 4.0, tiny_embedder, caption="a girl dancing on stage", members=["Hanni"],
                        caption_ko="무대에서 춤추는 소녀", transcript="hello"),
            add_segment(conn, "v1", 4.0, 8.0, tiny_embedder, caption="a man riding a skateboard",
                        members={"Minji": 0.8, "Hanni": 0.6}),
            add_segment(conn, "v1", 8.0, 12.0, tiny_embedder, caption="people in the park", members=["Danielle"]),
            add_segment(conn, "v2", 0.0, 5.0, tiny_embedder, caption="a dog on the beach"),
        ]
    return ids


@pytest.fixture(scope="session")
def test_video(tmp_path_factory):
    """A 10 s H.264 test video (lavfi testsrc), made once."""
    import imageio_ffmpeg

    out = tmp_path_factory.mktemp("video") / "test10s.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc=duration=10:size=320x180:rate=25", "-c:v", "libx264", "-preset", "veryfast",
                    "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(out)], check=True, timeout=60)
    return out


CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required"]


@pytest.fixture(scope="module")
def browser():
    """Debian chromium through Playwright (never `playwright install`)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make system-deps` (installs Debian chromium and fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()
