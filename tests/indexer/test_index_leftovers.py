"""What killed runs leave is cleaned up by the next one, and a stopped run stops soon and leaves nothing half-done.

- the next index run removes unfinished ``*.part*`` files and thumbnails nothing refers to, and keeps the
  thumbnails of segments and of history entries (a revert brings those back);
- SIGTERM to a busy ``python -m indexer index`` ends it within seconds, with exit code 143 and a message, the
  video in progress rolled back and no temporary file left;
- a stop that arrives while the text model embeds stops between batches; one that no check point answers
  ends the process at the deadline, and a second signal at once.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from db.videos import hold_thumbnail_writers_lock
from edits.operations import delete_segment
from indexer import shutdown, store
from indexer.cli import main
from indexer.pipeline import video_id_for
from tests.helpers import REPO, wait_for
from tests.indexer.conftest import make_video


def _rows(db, sql: str, *params) -> list[dict]:
    with db.connection() as conn:
        return conn.execute(sql, params).fetchall()


def _old(path: Path, touch: bytes = b"x") -> Path:
    """A file last written an hour ago."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(touch)
    an_hour_ago = time.time() - 3600
    os.utime(path, (an_hour_ago, an_hour_ago))
    return path


def test_next_run_removes_unfinished_files_and_unused_thumbnails(write_config, db, synthetic_video, data_dir, capsys):
    cfg = write_config()
    args = ["index", str(synthetic_video), "--config", str(cfg), "--no-progress"]
    assert main(args) == 0
    vid = video_id_for(synthetic_video)
    folder = data_dir / "thumbnails" / vid
    segs = _rows(db, "SELECT id, thumbnail FROM segments WHERE video_id = %s ORDER BY start_s", vid)
    used = {Path(s["thumbnail"]) for s in segs}
    assert len(used) == 3 and all(p.parent == folder and p.is_file() for p in used)
    delete_segment(db, segs[0]["id"], actor="tester", expected_version=None)   # its thumbnail lives on in history

    leftovers = [_old(folder / "999999.jpg"),                       # a killed run's uncommitted segment
                 _old(folder / "999998.jpg.part"),                  # killed while writing a thumbnail
                 _old(data_dir / "thumbnails" / "gone-video-1234" / "7.jpg"),   # a video that never committed
                 _old(data_dir / "clips" / "v_1_0.00-2.00.0badc0de.part.mp4"),  # a killed clip export
                 _old(data_dir / "clips" / "v_1_0.00-2.00.0badc0de.part.audio.m4a")]
    exporting = data_dir / "clips" / "v_2_2.00-4.00.1234abcd.part.mp4"      # an export running now
    exporting.write_bytes(b"x")
    exported = _old(data_dir / "clips" / "v_3_4.00-6.00.mp4")
    capsys.readouterr()

    assert main(args) == 0                                           # the video itself is unchanged: skipped
    out = capsys.readouterr().out
    assert "1 skipped" in out
    assert "leftovers removed: 3 unfinished temporary file(s), 2 unused thumbnail(s)" in out
    assert [p for p in leftovers if p.exists()] == []
    assert not (data_dir / "thumbnails" / "gone-video-1234").exists()
    assert all(p.is_file() for p in used), "thumbnails of segments and of history entries stay"
    assert exporting.is_file() and exported.is_file()


def test_thumbnails_are_left_alone_while_another_indexer_writes(write_config, db, synthetic_video, data_dir, capsys):
    """Its new files belong to no committed row until it commits: they are not leftovers."""
    args = ["index", str(synthetic_video), "--config", str(write_config()), "--no-progress"]
    not_yet_committed = _old(data_dir / "thumbnails" / "being-written-1234" / "5.jpg")
    with db.connection() as other_indexer:
        hold_thumbnail_writers_lock(other_indexer)
        assert main(args) == 0
        assert "thumbnails not checked: another indexer is writing" in capsys.readouterr().out
        assert not_yet_committed.is_file()
    assert main(args) == 0                                           # that one is gone: now it is a leftover
    assert "0 unfinished temporary file(s), 1 unused thumbnail(s)" in capsys.readouterr().out
    assert not not_yet_committed.exists()


def _srt(cues: int, step: float) -> str:
    def ts(s: float) -> str:
        ms = round(s * 1000)
        return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"
    return "\n".join(f"{i + 1}\n{ts(i * step)} --> {ts((i + 1) * step)}\nthe man is dancing on stage {i}\n"
                     for i in range(cues))


def test_sigterm_stops_a_busy_index_run_within_seconds(write_config, db, tmp_path, data_dir):
    """A four-minute video cut in 0.5 s segments with a subtitle each: 480 segments to write and embed (about a
    second here), during which the signal comes (as soon as the first thumbnail file appears)."""
    (tmp_path / "library").mkdir()
    video = make_video(tmp_path / "library" / "long.mp4", scenes=[("testsrc", 240.0)], size="160x120", rate=5)
    video.with_suffix(".srt").write_text(_srt(480, 0.5), encoding="utf-8")
    cfg = write_config(indexer={"segment_max_s": 0.5, "segment_min_s": 0.25})
    env = {**os.environ, "PYTHONPATH": str(REPO), "XDG_RUNTIME_DIR": "/tmp"}
    proc = subprocess.Popen([sys.executable, "-m", "indexer", "index", str(video), "--config", str(cfg),
                             "--no-progress"], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    thumbnails = data_dir / "thumbnails"
    try:
        wait_for(lambda: proc.poll() is not None or any(thumbnails.rglob("*.jpg")), "the first thumbnail",
                 timeout=120, interval=0.02)
        assert proc.poll() is None, f"the run ended before the signal: {proc.stderr.read()}"
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert took < 10, f"took {took:.1f} s to stop"
    assert proc.returncode == 143, (proc.returncode, err)
    assert "stopped by SIGTERM" in err and "Run the same command again" in err and "Traceback" not in err
    assert [p for p in data_dir.rglob("*") if ".part" in p.name] == []
    assert list(thumbnails.rglob("*.jpg")) == [], "the rolled-back video's thumbnails were removed"
    assert _rows(db, "SELECT id FROM segments") == []
    assert _rows(db, "SELECT id FROM videos") == []


class SignalsDuringEmbedding:
    """The real tiny model; SIGTERM reaches this process while its first batch is being embedded."""

    def __init__(self, embedder):
        self.embedder, self.name, self.dim, self.batches = embedder, embedder.name, embedder.dim, 0

    def embed(self, texts):
        self.batches += 1
        if self.batches == 1:
            os.kill(os.getpid(), signal.SIGTERM)
            wait_for(shutdown.requested, "the stop request")
        return self.embedder.embed(texts)


def test_a_stop_during_embedding_rolls_the_video_back(make_config, db, tiny_embedder, synthetic_video, data_dir,
                                                      monkeypatch):
    from indexer.pipeline import Indexer, Summary
    from indexer.registry import stages_from_config

    synthetic_video.with_suffix(".srt").write_text(_srt(24, 0.5), encoding="utf-8")
    cfg = make_config(indexer={"segment_max_s": 0.5, "segment_min_s": 0.25})
    monkeypatch.setattr(store, "EMBED_BATCH", 4)
    embedder = SignalsDuringEmbedding(tiny_embedder)
    indexer = Indexer(cfg, db, embedder, stages_from_config(cfg), progress=False)
    indexer.stages.load()
    stopped = None
    with shutdown.stop_on_signals(deadline_s=120):           # never the deadline: it would end pytest
        try:
            indexer.index_one(synthetic_video, Summary())
        except shutdown.Stopped as err:
            stopped = err
    assert stopped is not None and stopped.exit_code == 143
    assert embedder.batches == 1, "stopped before the next batch"
    assert _rows(db, "SELECT id FROM videos") == [] and _rows(db, "SELECT id FROM segments") == []
    assert [p for p in data_dir.rglob("*") if p.is_file()] == []


WAITS_FOREVER = """
import os, signal, sys, time
from indexer.shutdown import stop_on_signals
with stop_on_signals(deadline_s=float(sys.argv[1])):
    print("ready", flush=True)
    time.sleep(60)          # a step with no check point: only the deadline or a second signal ends it
"""


def _waiting_process(deadline_s: float) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", WAITS_FOREVER, str(deadline_s)], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    return proc


def test_a_step_that_does_not_stop_is_ended_at_the_deadline_or_by_a_second_signal():
    proc = _waiting_process(deadline_s=1.0)
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 143 and time.monotonic() - sent < 5
    assert "did not stop within 1 s" in err and "run the same command again" in err

    proc = _waiting_process(deadline_s=60.0)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130 and time.monotonic() - sent < 5
    assert "a second SIGINT came" in err
