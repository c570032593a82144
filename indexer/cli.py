"""``python -m indexer``: index, enroll, import-legacy, translate, reembed, status, remove, comments. ``main(argv)``
returns the exit code.

Exit codes: 0 success (an edited video kept by ``index`` is not a failure), 1 some videos failed (the others were
indexed), ``remove`` refused an edited video or a ``comments`` fetch stopped and can be continued, 2 a usage, config
or model error or an unknown video id,
128 + N stopped by signal N (143 SIGTERM, 130 Ctrl-C; within a few seconds: ``indexer.shutdown``).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import textwrap
from pathlib import Path

from core.model_check import check_models

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def build_parser() -> argparse.ArgumentParser:
    def options(suppress: bool) -> argparse.ArgumentParser:
        # Accepted before or after the command; after it, an absent option must not reset the value given before.
        extra = {"default": argparse.SUPPRESS} if suppress else {}
        o = argparse.ArgumentParser(add_help=False)
        o.add_argument("--config", metavar="FILE", help="config file (default: $MVSE_CONFIG or config.json)", **extra)
        o.add_argument("--no-progress", action="store_true", help="no progress bars", **extra)
        return o

    common = options(suppress=True)
    p = argparse.ArgumentParser(prog="python -m indexer", description="Offline video indexer.",
                                parents=[options(suppress=False)])
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ix = sub.add_parser("index", parents=[common], help="index video files or folders")
    ix.add_argument("paths", nargs="*", metavar="PATH", help="video files or folders (searched recursively)")
    ix.add_argument("--force", action="store_true", help="re-index videos already indexed and unchanged")
    ix.add_argument("--discard-edits", action="store_true",
                    help="with --force: replace videos whose segments were edited (edits and history are lost)")
    ix.add_argument("--asr", action="store_true",
                    help="run speech recognition even where a subtitle file gives the transcript (re-indexes them)")
    ix.add_argument("--retag", action="store_true",
                    help="only re-match members on stored face embeddings (no decoding); all videos if no PATH")

    en = sub.add_parser("enroll", parents=[common], help="add a member (and face photos, aliases)")
    en.add_argument("name")
    en.add_argument("images", nargs="*", metavar="IMAGE", type=Path)
    en.add_argument("--alias", action="append", default=[], help="another name, e.g. 해린 (repeatable)")
    en.add_argument("--group", help="group name")

    lg = sub.add_parser("import-legacy", parents=[common], help="import the original project's metadata JSON")
    lg.add_argument("file", type=Path)
    lg.add_argument("--video-id", help="the video to import (default: the one the file's rows name)")
    lg.add_argument("--title")
    lg.add_argument("--discard-edits", action="store_true", help="replace even if its segments were edited")

    tr = sub.add_parser("translate", parents=[common],
                        help="fill missing Korean captions through Gemini (cached, resumable)")
    tr.add_argument("video", nargs="?", metavar="VIDEO", help="a video id (default: every video)")
    tr.add_argument("--batch", type=int, default=40, help="captions per Gemini request (default 40)")

    sub.add_parser("reembed", parents=[common], help="re-embed every segment with the configured text model")
    st = sub.add_parser("status", parents=[common],
                        help="counts, the recorded models, and every video (state, segments, edited, failure reason)")
    st.add_argument("--json", action="store_true", help="the same as JSON")

    sub.add_parser("clusters", parents=[common],
                   help="group new unmatched faces into the Members page's Unknown faces (incremental)")
    rm = sub.add_parser("remove", parents=[common],
                        help="remove videos from the library (rows and thumbnails; never the media file)")
    rm.add_argument("videos", nargs="+", metavar="VIDEO", help="video id (as `status` lists them)")
    rm.add_argument("--force", action="store_true", help="also remove edited videos (their edits and history are lost)")

    co = sub.add_parser("comments", parents=[common],
                        help="viewers' comments as a signal for a video's best moments: from YouTube or a file")
    co.add_argument("video", metavar="VIDEO", help="video id (as `status` lists them) or title")
    co.add_argument("file", nargs="?", type=Path, metavar="FILE",
                    help="exported comments: .json (list, YouTube API dump, yt-dlp, JSON lines), .csv, or text "
                         "(one comment per line)")
    co.add_argument("--youtube", metavar="ID", help="fetch through the YouTube Data API (youtube.api_key): the "
                                                     "video's id or address; resumes a fetch that stopped")
    co.add_argument("--restart", action="store_true", help="with --youtube: start over instead of resuming")
    return p


def _open(args):
    from core.config import load_config
    from core.embedding import embedder_from_config
    from db import connect_database

    cfg = load_config(args.config)
    return cfg, connect_database(cfg), embedder_from_config(cfg)


def cmd_index(args, cfg, db, embedder) -> int:
    from indexer.pipeline import Indexer
    from indexer.registry import stages_from_config

    if not args.paths and not args.retag:
        print("error: index needs at least one PATH (or --retag)", file=sys.stderr)
        return 2
    if args.discard_edits and not args.force:
        print("error: --discard-edits only goes with --force", file=sys.stderr)
        return 2
    progress = False if args.no_progress else None
    if args.retag:
        indexer = Indexer(cfg, db, embedder, stages=None, progress=progress)
        summary = indexer.retag(args.paths)
        print(f"retagged {summary.indexed} video(s): {summary.segments} segments, {summary.faces} stored faces")
        for path, reason in summary.failures:
            print(f"FAILED {path}: {reason}")
        return 1 if summary.failed else 0
    stages = stages_from_config(cfg)
    check_models({"models.embedding": embedder, "models.caption_model": stages.captioner,
                  "models.faces": stages.faces, "models.asr": stages.speech})
    indexer = Indexer(cfg, db, embedder, stages, progress=progress, force_asr=args.asr)
    summary = indexer.index_paths(args.paths, force=args.force or args.asr, discard_edits=args.discard_edits)
    print(summary.table())
    return 1 if summary.failed else 0


def cmd_enroll(args, cfg, db, embedder) -> int:
    from indexer.members import enroll
    from indexer.registry import face_model_from_config

    faces = face_model_from_config(cfg) if args.images else None
    check_models({"models.faces": faces})
    member_id, n = enroll(db, cfg, args.name, args.images, args.alias, faces, group=args.group)
    print(f"member {args.name!r} (id {member_id}): {n} face(s) added"
          + (f", aliases {', '.join(args.alias)}" if args.alias else "")
          + ("; run `python -m indexer index --retag` to tag indexed videos" if n else ""))
    return 0


def cmd_import_legacy(args, cfg, db, embedder) -> int:
    from indexer.legacy import import_legacy

    video_id, segments, members = import_legacy(db, embedder, args.file, args.video_id, args.title,
                                                discard_edits=args.discard_edits)
    print(f"imported {segments} segments of video {video_id} ({members} members)")
    return 0


def cmd_translate(args, cfg, db, embedder) -> int:
    from core.gemini import translator_from_config
    from indexer.translate import translate_captions

    translator = translator_from_config(cfg)
    if translator is None:
        print("error: translate needs Gemini: set gemini.api_key in the config (and gemini.model if not the "
              "default)", file=sys.stderr)
        return 2
    if args.batch < 1:
        print("error: --batch must be 1 or more", file=sys.stderr)
        return 2
    run = translate_captions(db, embedder, translator, video=args.video, batch=args.batch,
                             progress=False if args.no_progress else None)
    print(f"Korean captions: {run.translated} added ({run.total} were missing)")
    if run.stopped:
        print(f"stopped early: {run.stopped} Run the same command again to continue: the captions translated so "
              "far are kept.", file=sys.stderr)
        return 1
    return 0


def cmd_reembed(args, cfg, db, embedder) -> int:
    from indexer.maintenance import reembed

    check_models({"models.embedding": embedder})
    n = reembed(db, embedder)
    print(f"re-embedded {n} segments with {embedder.name} ({embedder.dim}-d)")
    return 0


def cmd_status(args, cfg, db, embedder) -> int:
    report = status_data(db)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        print(status_text(report, shutil.get_terminal_size((120, 24)).columns))
    return 0


def status_data(db) -> dict:
    """The library in numbers, the recorded models and every video (state, segments, edits, failure reason)."""
    from db.embeddings import recorded_embedding_model
    from db.videos import edits_by_video, list_videos
    from indexer.store import library_counts

    with db.connection() as conn:
        by_status, counts, _, models = library_counts(conn)
        emb = recorded_embedding_model(conn)
        videos = list_videos(conn)
        edits = edits_by_video(conn)
    return {"videos_by_state": {r["status"]: r["n"] for r in by_status}, **counts,
            "gallery_faces_by_model": {r["model"]: r["n"] for r in models},
            "embedding_model": {"name": emb["name"], "dim": emb["dim"]} if emb else None,
            "videos": [{"id": v["id"], "title": v["title"], "state": v["status"], "segments": v["n"],
                        "edited": v["id"] in edits, "edits": edits.get(v["id"], []), "source": v["source"],
                        "path": v["path"], "error": v["error"] or v["speech_error"]} for v in videos]}


def status_text(report: dict, width: int = 120) -> str:
    emb = report["embedding_model"]
    lines = ["videos: " + (", ".join(f"{n} {state}" for state, n in report["videos_by_state"].items()) or "none"),
             f"segments: {report['segments']}",
             f"members: {report['members']} ({report['member_faces']} gallery faces"
             + "".join(f"; {n} of {model}" for model, n in report["gallery_faces_by_model"].items()) + ")",
             f"face detections: {report['faces']} ({report['unmatched']} unmatched)",
             "embedding model: " + (f"{emb['name']} ({emb['dim']}-d)" if emb else "none recorded yet")]
    if report["videos"]:
        lines += ["", video_table(report["videos"], width)]
    return "\n".join(lines)


def video_table(videos: list[dict], width: int = 120) -> str:
    """One line per video (``status_data``'s): id, title, state, segments, edited, and the failure reason folded
    to the width left (at most 3 lines; a longer one ends in "...")."""
    def cut(text: str, n: int) -> str:
        return text if len(text) <= n else text[:n - 3] + "..."

    def reason(v: dict) -> str:          # the video's own path shortened to its name (the full one: --json)
        text = " ".join((v["error"] or "").split())
        return text.replace(v["path"], Path(v["path"]).name) if v["path"] else text

    rows = [(cut(v["id"], 40), cut(v["title"] or "", 30), v["state"], str(v["segments"]),
             "yes" if v["edited"] else "no", reason(v)) for v in videos]
    head = ("ID", "TITLE", "STATE", "SEGMENTS", "EDITED", "REASON")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(5)]
    indent = sum(widths) + 2 * 5
    lines = []
    for r in [head, *rows]:
        left = "  ".join(c.rjust(w) if i == 3 else c.ljust(w)
                         for i, (c, w) in enumerate(zip(r[:5], widths, strict=True)))
        folded = textwrap.wrap(r[5], max(40, width - indent - 1), max_lines=3, placeholder=" ...",
                               break_on_hyphens=False) or [""]
        lines.append(f"{left}  {folded[0]}".rstrip())
        lines += [" " * indent + more for more in folded[1:]]
    return "\n".join(lines)


def cmd_clusters(args, cfg, db, embedder) -> int:
    from edits.clusters import update_clusters

    r = update_clusters(db, cfg)
    print(f"clustered {r['assigned']} new unmatched face(s): {r['new_clusters']} new cluster(s); "
          f"{r['released']} face(s) left their cluster (matched since), {r['removed_clusters']} cluster(s) emptied")
    return 0


def cmd_remove(args, cfg, db, embedder) -> int:
    from core.errors import NotFound
    from edits.videos import VideoHasEdits, remove_video

    code = 0
    for video_id in dict.fromkeys(args.videos):
        try:
            print(remove_video(db, cfg, video_id, force=args.force))
        except NotFound as err:
            print(f"error: {err}", file=sys.stderr)
            code = 2
        except VideoHasEdits as err:
            print(f"error: {err}", file=sys.stderr)
            code = max(code, 1)
    return code


def cmd_comments(args, cfg, db, embedder) -> int:
    from db.comments import comment_moments
    from db.videos import get_video, videos_named
    from indexer.comments import CommentsError, fetch_youtube_comments, import_comments_file, report

    if (args.file is None) == (args.youtube is None):
        print("error: comments needs either a FILE or --youtube ID (one of them)", file=sys.stderr)
        return 2
    if args.restart and args.youtube is None:
        print("error: --restart only goes with --youtube", file=sys.stderr)
        return 2
    with db.connection() as conn:
        found = videos_named(conn, args.video)
    if len(found) != 1:
        print(f"error: {'no video' if not found else 'several videos'} named {args.video!r}"
              + (": " + ", ".join(f"{v['id']} ({v['title']})" for v in found) if found else "")
              + ". `python -m indexer status` lists the videos and their ids.", file=sys.stderr)
        return 2
    args.video = found[0]["id"]
    try:
        if args.youtube is not None:
            run = fetch_youtube_comments(db, cfg, args.video, args.youtube, restart=args.restart,
                                         progress=False if args.no_progress else None)
        else:
            run = import_comments_file(db, args.video, args.file)
    except CommentsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1 if err.resumable else 2
    with db.connection() as conn:
        moments = comment_moments(conn, args.video, get_video(conn, args.video)["duration_s"])
    print(report(run, moments))
    return 0


COMMANDS = {"index": cmd_index, "enroll": cmd_enroll, "import-legacy": cmd_import_legacy,
            "translate": cmd_translate, "reembed": cmd_reembed, "status": cmd_status, "remove": cmd_remove,
            "comments": cmd_comments, "clusters": cmd_clusters}


ADDS_VECTORS = {"index", "import-legacy", "reembed"}


def _index_frequent_members(db) -> None:
    """Members now on many segments get their own HNSW index (db/member_vectors.py)."""
    from db.member_vectors import ensure_member_indexes

    with db.connection() as conn:
        built = ensure_member_indexes(conn)
    if built:
        print(f"built member vector indexes for member id(s) {', '.join(map(str, built))}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from db.server import stop_embedded_servers
    from indexer.shutdown import stop_on_signals

    with stop_on_signals(release=stop_embedded_servers):
        return _run(args)


def _run(args) -> int:
    """The command; on the way out the pool is closed and the embedded database released, also when stopped."""
    from core.config import ConfigError
    from core.errors import MvseError
    from db.server import DatabaseUnavailable, stop_embedded_servers
    from indexer.shutdown import Stopped

    db = None
    try:
        cfg, db, embedder = _open(args)
        code = COMMANDS[args.command](args, cfg, db, embedder)
        if args.command in ADDS_VECTORS:
            _index_frequent_members(db)
        return code
    except (ConfigError, MvseError, DatabaseUnavailable) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except Stopped as stop:
        print(f"error: {stop} before it finished: the unfinished work (the video in progress) was rolled back, "
              "what was finished is kept. Run the same command again to continue.", file=sys.stderr)
        return stop.exit_code
    finally:
        if db is not None:
            db.close()
        stop_embedded_servers()
