"""``python -m indexer``: index, enroll, import-legacy, translate, reembed, status. ``main(argv)`` returns
the exit code.

Exit codes: 0 success, 1 some videos failed (the others were indexed), 2 a usage, config or model error.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

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
    ix.add_argument("--retag", action="store_true",
                    help="only re-match members on stored face embeddings (no decoding); all videos if no PATH")

    en = sub.add_parser("enroll", parents=[common], help="add a member (and face photos, aliases)")
    en.add_argument("name")
    en.add_argument("images", nargs="*", metavar="IMAGE", type=Path)
    en.add_argument("--alias", action="append", default=[], help="another name, e.g. 해린 (repeatable)")
    en.add_argument("--group", help="group name")

    lg = sub.add_parser("import-legacy", parents=[common], help="import the original project's metadata JSON")
    lg.add_argument("file", type=Path)
    lg.add_argument("--video-id", required=True)
    lg.add_argument("--title")
    lg.add_argument("--discard-edits", action="store_true", help="replace even if its segments were edited")

    tr = sub.add_parser("translate", parents=[common],
                        help="fill missing Korean captions through Gemini (cached, resumable)")
    tr.add_argument("video", nargs="?", metavar="VIDEO", help="a video id (default: every video)")
    tr.add_argument("--batch", type=int, default=40, help="captions per Gemini request (default 40)")

    sub.add_parser("reembed", parents=[common], help="re-embed every segment with the configured text model")
    sub.add_parser("status", parents=[common], help="videos, segments, members and the recorded models")
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
    indexer = Indexer(cfg, db, embedder, stages_from_config(cfg), progress=progress)
    summary = indexer.index_paths(args.paths, force=args.force, discard_edits=args.discard_edits)
    print(summary.table())
    return 1 if summary.failed else 0


def cmd_enroll(args, cfg, db, embedder) -> int:
    from indexer.members import enroll
    from indexer.registry import face_model_from_config

    faces = face_model_from_config(cfg) if args.images else None
    member_id, n = enroll(db, args.name, args.images, args.alias, faces, group=args.group)
    print(f"member {args.name!r} (id {member_id}): {n} face(s) added"
          + (f", aliases {', '.join(args.alias)}" if args.alias else "")
          + ("; run `python -m indexer index --retag` to tag indexed videos" if n else ""))
    return 0


def cmd_import_legacy(args, cfg, db, embedder) -> int:
    from indexer.legacy import import_legacy

    segments, members = import_legacy(db, embedder, args.file, args.video_id, args.title,
                                      discard_edits=args.discard_edits)
    print(f"imported {segments} segments of video {args.video_id} ({members} members)")
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

    n = reembed(db, embedder)
    print(f"re-embedded {n} segments with {embedder.name} ({embedder.dim}-d)")
    return 0


def cmd_status(args, cfg, db, embedder) -> int:
    from indexer.maintenance import status_report

    print(status_report(db))
    return 0


COMMANDS = {"index": cmd_index, "enroll": cmd_enroll, "import-legacy": cmd_import_legacy,
            "translate": cmd_translate, "reembed": cmd_reembed, "status": cmd_status}


ADDS_VECTORS = {"index", "import-legacy", "reembed"}


def _index_frequent_members(db) -> None:
    """Members now on many segments get their own HNSW index (db/member_vectors.py)."""
    from db.member_vectors import ensure_member_indexes

    with db.connection() as conn:
        built = ensure_member_indexes(conn)
    if built:
        print(f"built member vector indexes for member id(s) {', '.join(map(str, built))}")


def main(argv: list[str] | None = None) -> int:
    from core.config import ConfigError
    from core.errors import MvseError
    from db.server import DatabaseUnavailable

    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
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
    finally:
        if db is not None:
            db.close()
