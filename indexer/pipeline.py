"""One video through the stages, and a run over many videos with progress bars and a summary.

Each video is analysed fully in memory (frames streamed, never stored) and then written in ONE
transaction; a failure records status 'failed' with the reason in its own transaction and the run goes on.
A run first removes what killed runs left behind (``indexer.leftovers``), and stops at the next frame, segment
or embedding batch after SIGTERM/SIGINT (``indexer.shutdown``), rolling back the video in progress.
"""
from __future__ import annotations

import hashlib
import logging
import re
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from core.errors import EmbeddingModelMismatch, ModelUnavailable, first_line
from db.embeddings import ensure_embedding_model, recorded_embedding_model
from db.members import list_members
from db.videos import find_video, indexed_video_ids, record_failure, video_edits
from indexer import proxy, shutdown, store
from indexer.errors import EditsWouldBeLost, VideoError
from indexer.frames import pick_evenly
from indexer.leftovers import Leftovers, remove_leftovers
from indexer.matching import Gallery, vote
from indexer.registry import Stages
from indexer.shots import plan_segments
from indexer.speech import spelled_as_enrolled, transcripts_from_speech
from indexer.subtitles import load_transcripts
from indexer.thumbnails import encode_thumbnail

log = logging.getLogger(__name__)
UNCHANGED = "unchanged since last index"
LISTED = 20     # unchanged files named in a summary before "... and N more"
HOTWORDS_MAX = 100  # member names and aliases given to speech recognition (its prompt is short)
VIDEO_EXTENSIONS = {".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".ts", ".flv", ".wmv"}


def video_id_for(path: Path) -> str:
    """Stable id: slug of the file name + short hash of the absolute path."""
    p = path.resolve()
    slug = re.sub(r"[^a-z0-9]+", "-", p.stem.lower()).strip("-")[:40] or "video"
    return f"{slug}-{hashlib.sha1(str(p).encode()).hexdigest()[:8]}"


def collect_videos(paths: list[str]) -> tuple[list[Path], list[str]]:
    """Video files named or found under folders (recursively); and the paths that do not exist."""
    files, missing = [], []
    for raw in paths:
        p = Path(raw).expanduser()
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in VIDEO_EXTENSIONS))
        elif p.is_file():
            files.append(p)
        else:
            missing.append(raw)
    seen, unique = set(), []
    for f in files:
        if f.resolve() not in seen:
            seen.add(f.resolve())
            unique.append(f)
    return unique, missing


@dataclass
class Summary:
    """One run: counts, seconds per stage, and what happened to each file that was not simply indexed.

    ``skipped`` counts the files left as they were: ``unchanged`` (paths) and ``kept`` (edited videos a re-index
    would have replaced: path, why and the fix). A kept video is not a failure. ``subtitles``: (video, subtitle
    file) of each indexed video whose transcript came from a subtitle file."""
    indexed: int = 0
    skipped: int = 0
    failed: int = 0
    segments: int = 0
    faces: int = 0
    seconds_of_video: float = 0.0
    stage_s: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    failures: list[tuple[str, str]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[tuple[str, str]] = field(default_factory=list)
    subtitles: list[tuple[str, str]] = field(default_factory=list)
    spoken: list[str] = field(default_factory=list)                       # videos transcribed by speech recognition
    speech_failures: list[tuple[str, str]] = field(default_factory=list)  # indexed without speech, and why
    audio_s: float = 0.0
    leftovers: Leftovers | None = None

    @contextmanager
    def timed(self, stage: str):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.stage_s[stage] += time.perf_counter() - t0

    def skip_unchanged(self, path: Path) -> None:
        self.skipped += 1
        self.unchanged.append(str(path))

    def keep_edited(self, path: Path, why: str) -> None:
        self.skipped += 1
        self.kept.append((str(path), why))

    def table(self) -> str:
        lines = [f"videos: {self.indexed} indexed, {self.skipped} skipped, {self.failed} failed; "
                 f"segments: {self.segments}; faces: {self.faces}; video: {self.seconds_of_video:.1f} s"]
        if self.stage_s:
            lines.append(f"{'stage':<12}{'seconds':>10}{'video s / s':>14}")
        for stage, secs in self.stage_s.items():
            speed = self.seconds_of_video / secs if secs > 0 else float("inf")
            lines.append(f"{stage:<12}{secs:>10.2f}{speed:>14.1f}")
        if self.leftovers:
            lines.append(str(self.leftovers))
        lines += [f"subtitles: {video} <- {sub}" for video, sub in self.subtitles]
        if self.spoken:
            secs = self.stage_s.get("speech", 0.0)
            lines.append(f"speech: {len(self.spoken)} video(s), {self.audio_s / 60:.1f} min of audio in {secs:.1f} s "
                         f"(real-time factor {secs / self.audio_s if self.audio_s else 0:.2f})")
        lines += [f"speech failed (indexed without it): {path}: {why}" for path, why in self.speech_failures]
        lines += [f"skipped ({UNCHANGED}): {path}" for path in self.unchanged[:LISTED]]
        if len(self.unchanged) > LISTED:
            lines.append(f"skipped ({UNCHANGED}): ... and {len(self.unchanged) - LISTED} more "
                         "(`python -m indexer status` lists every video)")
        lines += [f"kept (edited): {path}: {why}" for path, why in self.kept]
        lines += [f"FAILED {path}: {reason}" for path, reason in self.failures]
        return "\n".join(lines)


def edited_note(video_id: str, edits: list[str], force: bool) -> str:
    """Why an edited video was kept, and how to replace it anyway."""
    flags = "--discard-edits" if force else "--force --discard-edits"
    return (f"video {video_id} has edits ({', '.join(edits)}); use {flags} to replace it "
            "(its edits and history are lost)")


class Indexer:
    def __init__(self, cfg, db, embedder, stages: Stages, progress: bool | None = None, force_asr: bool = False):
        self.cfg, self.db, self.embedder, self.stages = cfg, db, embedder, stages
        self.progress = progress  # None: bars only on a terminal
        self.force_asr = force_asr  # speech recognition even where a subtitle file gives the transcript
        self._galleries: dict[str, Gallery] = {}
        self._hotwords: list[str] | None = None

    # ------------------------------------------------------------ run over many
    def index_paths(self, paths: list[str], force: bool = False, discard_edits: bool = False) -> Summary:
        summary = Summary()
        self._galleries.clear()
        self._hotwords = None
        summary.leftovers = remove_leftovers(self.db, self.cfg.thumbnails_path, self.cfg.clips_path,
                                             self.cfg.proxies_path, self.cfg.overview_path)
        files, missing = collect_videos(paths)
        for raw in missing:
            summary.failed += 1
            summary.failures.append((raw, "no such file or folder"))
        todo = [f for f in files if not self._skip(f, force, discard_edits, summary)]
        if todo:
            self.stages.load()
            self._check_embedding_model()
        for path in tqdm(todo, desc="videos", unit="video", disable=self._bars_off()):
            shutdown.check()
            self.index_one(path, summary, discard_edits=discard_edits)
        return summary

    def _check_embedding_model(self) -> None:
        """Refuse before decoding anything if the database holds another text model's vectors."""
        with self.db.connection() as conn:
            recorded = recorded_embedding_model(conn)
        if recorded and (recorded.get("name"), int(recorded.get("dim", -1))) != (self.embedder.name, self.embedder.dim):
            with self.db.connection() as conn:
                ensure_embedding_model(conn, self.embedder.name, self.embedder.dim)  # raises with the fix

    def _bars_off(self):
        return None if self.progress is None else not self.progress

    def _skip(self, path: Path, force: bool, discard_edits: bool, summary: Summary) -> bool:
        """Left as it is: indexed and unchanged (unless ``force``), or edited (unless ``discard_edits``): re-indexing
        would replace what people changed, so the video is kept and the summary says how to replace it."""
        vid = video_id_for(path)
        with self.db.connection() as conn:
            row = find_video(conn, vid)
            edits = video_edits(conn, vid) if row and not discard_edits else []
        if not row:
            return False
        st = path.stat()
        if (not force and row["status"] == "indexed" and row["file_size"] == st.st_size
                and row["file_mtime"] == st.st_mtime):
            summary.skip_unchanged(path)
            return True
        if edits:
            summary.keep_edited(path, edited_note(vid, edits, force))
            return True
        return False

    def index_one(self, path: Path, summary: Summary, discard_edits: bool = False) -> bool:
        vid = video_id_for(path)
        written: list[Path] = []
        try:
            self._check_library(path)
            with self.db.connection() as conn:
                if find_video(conn, vid):
                    store.guard_edits(conn, vid, discard_edits)
            with summary.timed("probe"):    # its streams, read once: the speech and proxy stages both need them
                media = proxy.read_media(path)
            video, segments, faces = self.analyse(path, vid, summary, media)
            with summary.timed("proxy"):    # a playable copy when browsers cannot play the file (indexer.proxy)
                video.update(proxy.playable_media(self.cfg, path, vid, media))
            with summary.timed("write"):
                try:
                    with self.db.connection() as conn:
                        old = store.thumbnails_of(conn, vid)
                        store.guard_edits(conn, vid, discard_edits)
                        store.replace_video(conn, video, segments, faces, getattr(self.stages.faces, "name", None),
                                            self.embedder, self.cfg.thumbnails_path, written)
                except BaseException:
                    for p in written:  # the rows were rolled back: so are the files
                        p.unlink(missing_ok=True)
                    raise
                keep = {str(p) for p in written}
                for thumbnail in old:
                    if thumbnail not in keep:
                        Path(thumbnail).unlink(missing_ok=True)
        except (ModelUnavailable, EmbeddingModelMismatch):
            raise
        except EditsWouldBeLost:    # edited while it was being analysed: kept, as ``_skip`` keeps edited videos
            with self.db.connection() as conn:
                summary.keep_edited(path, edited_note(vid, video_edits(conn, vid), force=False))
            return False
        except Exception as err:  # noqa: BLE001 - one bad file fails alone, with its reason
            reason = str(err) if isinstance(err, VideoError) else f"{type(err).__name__}: {err}"
            if not isinstance(err, VideoError):
                log.exception("indexing %s failed", path)
            summary.failed += 1
            summary.failures.append((str(path), reason))
            with self.db.connection() as conn:
                record_failure(conn, vid, path.stem, str(path.resolve()), reason)
            return False
        summary.indexed += 1
        summary.segments += len(segments)
        summary.faces += len(faces)
        summary.seconds_of_video += video["duration_s"]
        return True

    def _check_library(self, path: Path) -> None:
        lib = self.cfg.library_path
        if lib is not None and not path.resolve().is_relative_to(lib):
            raise VideoError(f"{path} is outside library_dir ({lib}); move it there or change library_dir")

    # ------------------------------------------------------------ one video
    def analyse(self, path: Path, vid: str, summary: Summary, media: proxy.MediaInfo | None):
        st = path.stat()
        shot_bar = tqdm(total=2, desc=f"{path.name[:24]} probe+shots", leave=False, disable=self._bars_off())
        with summary.timed("probe"):
            info = self.stages.probe.probe(path)
        shot_bar.update(1)
        with summary.timed("shots"):
            cuts = self.stages.shots.cuts(path)
            spans = plan_segments(info.duration_s, cuts, self.cfg.indexer.segment_max_s,
                                  self.cfg.indexer.segment_min_s)
        shot_bar.update(1)
        shot_bar.close()
        segments = [store.SegmentRow(a, b) for a, b in spans]
        faces: list[store.FaceRow] = []
        frame_groups: list[list] = [[] for _ in spans]
        bar = tqdm(total=round(info.duration_s, 1), desc=f"{path.name[:24]} faces+captions", unit="s",
                   leave=False, disable=self._bars_off())
        gallery = self._gallery() if self.stages.faces is not None else None
        seg_i, last = 0, None
        frames_iter = self.stages.frames.frames(path, info)
        while True:
            shutdown.check()
            with summary.timed("decode"):
                frame = next(frames_iter, None)
            if frame is None:
                break
            while seg_i < len(spans) - 1 and frame.t >= spans[seg_i][1]:
                self._finish(seg_i, frame_groups, segments, faces, gallery, info.width, summary, last)
                seg_i += 1
            frame_groups[seg_i].append(frame)
            last = frame
            bar.update(round(min(frame.t, info.duration_s) - bar.n, 1))
        while seg_i < len(spans):
            self._finish(seg_i, frame_groups, segments, faces, gallery, info.width, summary, last)
            seg_i += 1
        bar.close()
        with summary.timed("subtitles"):
            sub_file, transcripts = load_transcripts(path, spans)
        speech_error = None
        if self.stages.speech is not None and (sub_file is None or self.force_asr) and media and media.audio:
            transcripts, speech_error = self._speech(path, spans, transcripts, summary, info.duration_s)
        elif sub_file is not None:
            summary.subtitles.append((str(path), sub_file.name))
        for seg, text in zip(segments, transcripts, strict=True):
            seg.transcript = text
        video = {"id": vid, "title": path.stem, "path": str(path.resolve()), "file_size": st.st_size,
                 "file_mtime": st.st_mtime, "duration_s": info.duration_s, "fps": info.fps, "width": info.width,
                 "height": info.height, "shot_boundaries": sorted(c for c in cuts if 0 < c < info.duration_s),
                 "speech_error": speech_error}
        return video, segments, faces

    def _speech(self, path: Path, spans, transcripts, summary: Summary,
                duration_s: float) -> tuple[list[str | None], str | None]:
        """The segments' transcripts from speech recognition, and why it failed (then the video keeps what it had:
        its subtitles' text, or none)."""
        if self._hotwords is None:
            with self.db.connection() as conn:
                people = list_members(conn)
            self._hotwords = list(dict.fromkeys(w for m in people for w in [m["name"], *m["aliases"]]))[:HOTWORDS_MAX]
        bar = tqdm(total=round(duration_s, 1), desc=f"{path.name[:24]} speech", unit="s", leave=False,
                   disable=self._bars_off())

        def heard(t: float) -> None:
            bar.update(round(min(t, duration_s) - bar.n, 1))

        with summary.timed("speech"), bar:
            try:
                speech = self.stages.speech.transcribe(path, self.cfg.asr.language_code, self._hotwords, heard)
                why = None
                if speech.audio_s < min(1.0, 0.1 * duration_s):   # decoders skip what they cannot read, silently
                    why = (f"speech recognition failed (its audio track could not be decoded: {speech.audio_s:.1f} "
                           f"s of sound read from a {duration_s:.1f} s video)")
            except ModelUnavailable:
                raise
            except Exception as err:  # noqa: BLE001 - a broken audio stream fails this stage only, with the reason
                why = f"speech recognition failed ({first_line(err)})"
        if why:
            log.warning("%s: %s; the video is indexed without it", path, why)
            summary.speech_failures.append((str(path), why))
            return transcripts, why
        summary.spoken.append(str(path))
        summary.audio_s += speech.audio_s
        return [spelled_as_enrolled(t, self._hotwords) for t in transcripts_from_speech(spans, speech.pieces)], None

    def _finish(self, i, groups, segments, faces, gallery, width, summary, last) -> None:
        """Run faces, captions and the thumbnail on segment i's frames, then drop them. Face boxes are scaled
        from the decoded frame to the video's ``width``."""
        frames = groups[i] or ([last] if last is not None else [])
        groups[i] = []
        seg = segments[i]
        if not frames:
            return
        shutdown.check()
        if self.stages.faces is not None:
            with summary.timed("faces"):
                step = max(1, round(self.stages.frames.fps / self.cfg.faces.sample_fps))
                matches = []
                for fr in frames[::step]:
                    scale = width / fr.rgb.shape[1]
                    for f in self.stages.faces.detect(fr.rgb):
                        m = gallery.match(f.embedding)
                        matches.append(m)
                        faces.append(store.FaceRow(t=max(fr.t, seg.start), bbox=tuple(v * scale for v in f.bbox),
                                                   det_score=f.det_score, embedding=f.embedding,
                                                   member_id=m.member_id, similarity=m.similarity))
                seg.members = vote(matches, self.cfg.faces.min_votes)
        if self.stages.captioner is not None:
            shutdown.check()
            with summary.timed("captions"):
                seg.caption = self.stages.captioner.caption(
                    [f.rgb for f in pick_evenly(frames, self.cfg.indexer.caption_frames)])
        with summary.timed("thumbnails"):
            seg.thumbnail_jpeg = encode_thumbnail(frames[len(frames) // 2].rgb, self.cfg.indexer.thumbnail_width)

    def _gallery(self, model: str | None = None) -> Gallery:
        model = model or self.stages.faces.name
        if model not in self._galleries:
            with self.db.connection() as conn:
                self._galleries[model] = Gallery.load(conn, model, self.cfg.faces.threshold, self.cfg.faces.margin)
        return self._galleries[model]

    # ------------------------------------------------------------ retag
    def retag(self, paths: list[str]) -> Summary:
        """Re-run member matching on stored face embeddings (all videos, or those of the paths given)."""
        summary = Summary()
        self._galleries.clear()
        self._hotwords = None
        with self.db.connection() as conn:
            if paths:
                files, missing = collect_videos(paths)
                ids = [video_id_for(f) for f in files]
                for raw in missing:
                    summary.failed += 1
                    summary.failures.append((raw, "no such file or folder"))
            else:
                ids = indexed_video_ids(conn)

        def gallery_for(model: str) -> Gallery:
            return self._gallery(model)

        for vid in tqdm(ids, desc="retag", unit="video", disable=self._bars_off()):
            with summary.timed("retag"):
                with self.db.connection() as conn:
                    if not find_video(conn, vid):
                        summary.failed += 1
                        summary.failures.append((vid, "not indexed yet"))
                        continue
                    segments, faces = store.retag_video(conn, vid, gallery_for, self.cfg.faces.min_votes,
                                                        self.embedder)
                    summary.segments += segments
                    summary.faces += faces
            summary.indexed += 1
        return summary
