"""Members and their face galleries: the rules both doors share (``python -m indexer enroll`` and the editor's
Members page, ``editor/people.py``).

A face enters a gallery only through ``save_gallery``, after the quality gate (``core.face_quality``) accepted it;
each gallery row gets a small JPEG crop (``<row id>.jpg`` under ``cfg.faces_path``) for the page. The CLI takes the
largest face of each photo; the page first shows every face the model found (``detect_upload``, kept for an hour
as a pending upload) and saves the one chosen per photo (``save_choices``). Either way the member, its aliases
and all its new faces are written in one transaction: a refused photo leaves nothing behind.

The SQL of the columns added by migration 009 lives here for now; it belongs beside the rest in ``db/members.py``.
"""
from __future__ import annotations

import base64
import io
import json
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psycopg

from core.errors import InvalidRequest, MvseError, NotFound, first_line
from core.face_quality import FaceMeasures, GalleryRules, measure, reasons_for
from db.members import delete_gallery_faces, list_members, upsert_member
from indexer.faces import DetectedFace, FaceModel

log = logging.getLogger(__name__)

CROP_PX = 112
PENDING_TTL_S = 3600
NAME_MAX = 100
_TOKEN = re.compile(r"^[0-9a-f]{32}$")
_models: dict[tuple, FaceModel | None] = {}
_models_lock = threading.Lock()


def face_model(cfg) -> FaceModel | None:
    """The configured face model, one per process (loaded on first use); None when ``models.faces`` is "none"."""
    from indexer.registry import face_model_from_config

    key = (cfg.models.faces, cfg.models.device, cfg.faces.min_det_score)
    with _models_lock:
        if key not in _models:
            _models[key] = face_model_from_config(cfg)
        return _models[key]


def need_model(faces: FaceModel | None) -> FaceModel:
    if faces is None:
        raise InvalidRequest("Enrolling photos needs a face model: set models.faces in the config (it is \"none\").")
    return faces


# --- photos and their faces --------------------------------------------------------------------------------------

def decode_photo(data: bytes, name: str) -> np.ndarray:
    """RGB pixels of a photo (EXIF rotation applied); a file that is not a picture is an error naming it."""
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(data)) as img:
            return np.asarray(ImageOps.exif_transpose(img).convert("RGB"))
    except Exception as err:  # noqa: BLE001 - PIL raises many kinds for a bad photo; one message names it
        raise InvalidRequest(f"cannot read the photo {name}: {err}") from err


def load_rgb(path: Path) -> np.ndarray:
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise MvseError(f"cannot read the photo {path}: {err}") from err
    try:
        return decode_photo(data, str(path))
    except InvalidRequest as err:
        raise MvseError(err.message) from None


def crop_jpeg(rgb: np.ndarray, bbox, side: int = CROP_PX) -> bytes:
    """A square JPEG of the face with some margin around it, ``side`` pixels wide."""
    from PIL import Image

    x1, y1, x2, y2 = bbox
    cx, cy, half = (x1 + x2) / 2, (y1 + y2) / 2, max(x2 - x1, y2 - y1) * 0.65
    h, w = rgb.shape[:2]
    box = (max(0, int(cx - half)), max(0, int(cy - half)), min(w, int(cx + half)), min(h, int(cy + half)))
    out = io.BytesIO()
    Image.fromarray(rgb).crop(box).resize((side, side), Image.Resampling.LANCZOS).save(out, "JPEG", quality=85)
    return out.getvalue()


@dataclass
class Candidate:
    """One face found in a photo, measured and judged by the gallery's quality gate."""
    face: DetectedFace
    measures: FaceMeasures
    reasons: list[str]
    crop: bytes


def candidates(rgb: np.ndarray, faces: FaceModel, rules: GalleryRules) -> list[Candidate]:
    """Every face the model finds in the photo, the largest first."""
    found = sorted(faces.detect(rgb), key=lambda f: f.area, reverse=True)
    out = []
    for face in found:
        m = measure(rgb, face)
        out.append(Candidate(face, m, reasons_for(m, rules), crop_jpeg(rgb, face.bbox)))
    return out


@dataclass
class Chosen:
    """A face accepted for a gallery: what ``save_gallery`` writes."""
    photo: str              # the photo's file name, shown on the page
    source: str             # where it came from (the CLI: the photo's path)
    model: str
    embedding: np.ndarray
    measures: FaceMeasures
    crop: bytes


def refused(photo: str, reasons: list[str]) -> InvalidRequest:
    return InvalidRequest(f"The face in the photo {photo} is refused: {'; '.join(reasons)}. Use a sharper photo "
                          "where the face is larger, or change faces.gallery_* in the config. Nothing was enrolled.")


# --- the gallery (one transaction per change) -------------------------------------------------------------------

def save_gallery(conn: psycopg.Connection, cfg, member_id: int, chosen: list[Chosen]) -> list[int]:
    """Insert the faces and write their crops; the caller's transaction commits both (crops of a failed
    transaction are removed)."""
    cfg.faces_path.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        ids = []
        for c in chosen:
            m = c.measures
            row = conn.execute(
                "INSERT INTO member_faces (member_id, model, embedding, source, photo_name, det_score, face_w, "
                "face_h, sharpness) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                (member_id, c.model, c.embedding, c.source, c.photo, m.det_score, m.width, m.height,
                 m.sharpness)).fetchone()
            name = f"{row['id']}.jpg"
            (cfg.faces_path / name).write_bytes(c.crop)
            written.append(cfg.faces_path / name)
            conn.execute("UPDATE member_faces SET crop = %s WHERE id = %s", (name, row["id"]))
            ids.append(row["id"])
        return ids
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise


def enroll_photos(db, cfg, name: str, images: list[Path], aliases: list[str], faces: FaceModel | None,
                  group: str | None = None) -> tuple[int, int]:
    """The CLI's door: the member (created or extended) with the largest face of each photo, all in one
    transaction; a photo without a face, or whose face the gate refuses, fails the whole enrolment naming it."""
    rules = GalleryRules.from_config(cfg.faces)
    chosen = []
    if images:
        faces = need_model(faces)
    for path in map(Path, images):
        if not path.is_file():
            raise MvseError(f"photo {path} does not exist")
        found = candidates(load_rgb(path), faces, rules)
        if not found:
            raise MvseError(f"no face found in the photo {path}: use a photo where the face is clearly visible")
        best = found[0]
        if best.reasons:
            raise MvseError(refused(str(path), best.reasons).message)
        chosen.append(Chosen(path.name, str(path.resolve()), faces.name, best.face.embedding, best.measures,
                             best.crop))
    with db.connection() as conn:
        member_id = upsert_member(conn, name, group, aliases)
        save_gallery(conn, cfg, member_id, chosen)
    return member_id, len(chosen)


# --- the page's door: detect, then save the chosen face of each photo ------------------------------------------

def _pending_dir(cfg) -> Path:
    return cfg.faces_path / "pending"


def _drop_stale_pending(cfg) -> None:
    now = time.time()
    for path in _pending_dir(cfg).glob("*.json"):
        try:
            if now - path.stat().st_mtime > PENDING_TTL_S:
                path.unlink(missing_ok=True)
        except OSError:
            pass


def detect_upload(cfg, faces: FaceModel | None, filename: str, data: bytes) -> dict:
    """Every face of an uploaded photo, kept for an hour under a token so that the chosen one can be saved:
    ``{"upload", "photo", "faces": [{"index", "crop" (data: URL), "width", "height", "det_score", "sharpness",
    "reasons"}], "chosen"}``; ``chosen`` is the largest accepted face (None when every face is refused)."""
    faces = need_model(faces)
    photo = Path(filename or "photo").name[:NAME_MAX]
    found = candidates(decode_photo(data, photo), faces, GalleryRules.from_config(cfg.faces))
    token = secrets.token_hex(16)
    _pending_dir(cfg).mkdir(parents=True, exist_ok=True)
    _drop_stale_pending(cfg)
    stored = {"photo": photo, "model": faces.name, "faces": [
        {"embedding": [float(v) for v in c.face.embedding], "crop": base64.b64encode(c.crop).decode(),
         "measures": vars(c.measures)} for c in found]}
    (_pending_dir(cfg) / f"{token}.json").write_text(json.dumps(stored), encoding="utf-8")
    shown = [{"index": i, "crop": "data:image/jpeg;base64," + f["crop"], **f["measures"], "reasons": c.reasons}
             for i, (f, c) in enumerate(zip(stored["faces"], found, strict=True))]
    chosen = next((s["index"] for s in shown if not s["reasons"]), None)
    return {"upload": token, "photo": photo, "faces": shown, "chosen": chosen}


def _pending(cfg, token: str) -> tuple[Path, dict]:
    path = _pending_dir(cfg) / f"{token}.json"
    if not _TOKEN.match(token or "") or not path.is_file():
        raise NotFound("That uploaded photo is no longer waiting (uploads are kept for an hour): upload it again.")
    return path, json.loads(path.read_text(encoding="utf-8"))


def save_choices(db, cfg, member_id: int, choices: list[tuple[str, int]]) -> list[int]:
    """Save face ``index`` of each pending upload into the member's gallery, through the quality gate, in one
    transaction; the uploads are then forgotten."""
    if not choices:
        raise InvalidRequest("Choose a face in at least one photo.")
    rules = GalleryRules.from_config(cfg.faces)
    chosen, used = [], []
    for token, index in choices:
        path, stored = _pending(cfg, token)
        if not 0 <= index < len(stored["faces"]):
            raise InvalidRequest(f"The photo {stored['photo']} has no face number {index + 1}.")
        face = stored["faces"][index]
        measures = FaceMeasures(**face["measures"])
        reasons = reasons_for(measures, rules)
        if reasons:
            raise refused(stored["photo"], reasons)
        chosen.append(Chosen(stored["photo"], f"upload:{stored['photo']}", stored["model"],
                             np.asarray(face["embedding"], dtype=np.float32), measures,
                             base64.b64decode(face["crop"])))
        used.append(path)
    with db.connection() as conn:
        member_row(conn, member_id)
        ids = save_gallery(conn, cfg, member_id, chosen)
    for path in used:
        path.unlink(missing_ok=True)
    return ids


# --- members, aliases, faces ------------------------------------------------------------------------------------

def member_row(conn: psycopg.Connection, member_id: int) -> dict:
    row = conn.execute("SELECT id, name, group_name FROM members WHERE id = %s", (member_id,)).fetchone()
    if row is None:
        raise NotFound(f"There is no member {member_id}.")
    return row


def people(db) -> list[dict]:
    """Every member (``db.members.list_members``) with its gallery faces, in enrolment order."""
    with db.connection() as conn:
        members = list_members(conn)
        faces = conn.execute(
            "SELECT id, member_id, model, crop, photo_name, source, det_score, face_w, face_h, sharpness "
            "FROM member_faces ORDER BY id").fetchall()
    by_member: dict[int, list] = {}
    for f in faces:
        by_member.setdefault(f["member_id"], []).append({
            "id": f["id"], "model": f["model"], "has_crop": bool(f["crop"]),
            "photo": f["photo_name"] or (Path(f["source"]).name if f["source"] else None),
            "det_score": f["det_score"], "width": f["face_w"], "height": f["face_h"], "sharpness": f["sharpness"]})
    return [{**m, "faces": by_member.get(m["id"], [])} for m in members]


def clean_text(text: str | None) -> str:
    return " ".join((text or "").split())[:NAME_MAX]


def create_member(db, name: str, group: str | None, aliases: list[str]) -> int:
    name = clean_text(name)
    if not name:
        raise InvalidRequest("A member needs a name.")
    with db.connection() as conn:
        if conn.execute("SELECT 1 FROM members WHERE name = %s", (name,)).fetchone():
            raise InvalidRequest(f"There is already a member called {name!r}.", status_code=409)
        return upsert_member(conn, name, clean_text(group) or None, [clean_text(a) for a in aliases])


def set_group(db, member_id: int, group: str | None) -> None:
    with db.connection() as conn:
        member_row(conn, member_id)
        conn.execute("UPDATE members SET group_name = %s WHERE id = %s", (clean_text(group) or None, member_id))


def add_alias(db, member_id: int, alias: str) -> None:
    """Stored with its normalized form by the same code as ``indexer enroll --alias`` (``upsert_member``)."""
    alias = clean_text(alias)
    if not alias:
        raise InvalidRequest("An alias cannot be empty.")
    with db.connection() as conn:
        upsert_member(conn, member_row(conn, member_id)["name"], None, [alias])


def remove_alias(db, member_id: int, alias: str) -> None:
    with db.connection() as conn:
        if member_row(conn, member_id)["name"] == alias:
            raise InvalidRequest("A member's own name is not an alias that can be removed.")
        if conn.execute("DELETE FROM member_aliases WHERE member_id = %s AND alias = %s RETURNING 1",
                        (member_id, alias)).fetchone() is None:
            raise NotFound(f"The member has no alias {alias!r}.")


def remove_face(db, cfg, face_id: int) -> int:
    """Delete a gallery face (and its crop); returns its member's id."""
    with db.connection() as conn:
        rows = delete_gallery_faces(conn, [face_id])
    if not rows:
        raise NotFound(f"There is no gallery face {face_id}.")
    remove_crops(cfg, rows)
    return rows[0]["member_id"]


def remove_crops(cfg, rows: list[dict]) -> None:
    """Delete the crop files of deleted gallery faces (``db.members.delete_gallery_faces``'s rows)."""
    for row in rows:
        if row["crop"]:
            (cfg.faces_path / Path(row["crop"]).name).unlink(missing_ok=True)


def retag_after_gallery_change(db, cfg, embedder, member_id: int, also: list[int] = ()) -> dict:
    """Re-match the library's stored faces that a change of this member's gallery can affect
    (``edits.rematch``; manual tags are never touched; ``also``: more members to re-match, e.g. look-alikes).
    Returns what changed, in words and numbers, for the page: ``{"added", "removed", "videos", "where", "text"}``
    (``where``: the tags changed, [{"segment_id", "video_id", "member", "change": "added"|"removed"}]); a failure
    is reported, not raised (the gallery change stands and ``python -m indexer index --retag`` does the same)."""
    from edits.rematch import rematch_members

    try:
        report = rematch_members(db, cfg, [member_id, *also], embedder=embedder)
    except Exception as err:  # noqa: BLE001 - the gallery is saved either way; the page says what to run
        log.exception("re-matching member %s failed", member_id)
        return {"added": 0, "removed": 0, "videos": {}, "where": [],
                "text": f"The library was not re-matched ({first_line(err)}): run python -m indexer index --retag."}
    added, removed = len(report["tags_added"]), len(report["tags_removed"])
    videos = report["videos"]
    where = [{**t, "change": "added"} for t in report["tags_added"]] + \
        [{**t, "change": "removed"} for t in report["tags_removed"]]
    with db.connection() as conn:
        titles = {r["id"]: r["title"] for r in conn.execute("SELECT id, title FROM videos WHERE id = ANY(%s)",
                                                             (list(videos),)).fetchall()}
    named = ", ".join(f"{titles.get(v, v)} ({n})" for v, n in sorted(videos.items(), key=lambda kv: -kv[1])[:5])
    more = f" and {len(videos) - 5} more" if len(videos) > 5 else ""
    text = (f"Re-matched the library: {added} tag(s) added, {removed} removed in {len(videos)} video(s): "
            f"{named}{more} ({report['detections_checked']} stored face(s) checked)." if added or removed else
            f"Re-matched the library: no tag changed ({report['detections_checked']} stored face(s) checked).")
    return {"added": added, "removed": removed, "videos": videos, "where": where, "text": text}


def crop_file(db, cfg, face_id: int) -> Path:
    """The crop of a gallery face, only from inside ``cfg.faces_path``."""
    with db.connection() as conn:
        row = conn.execute("SELECT crop FROM member_faces WHERE id = %s", (face_id,)).fetchone()
    folder = cfg.faces_path.resolve()
    path = (folder / row["crop"]).resolve() if row and row["crop"] else None
    if path is None or path.parent != folder or not path.is_file():
        raise NotFound(f"Gallery face {face_id} has no picture.")
    return path
