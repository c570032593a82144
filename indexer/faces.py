"""Stage 4, faces: insightface FaceAnalysis (detection + recognition) behind a small interface.

``models.faces`` is a pack name under ``~/.insightface/models`` (``buffalo_l``), a pack folder path
(any folder holding the pack's .onnx files), or ``none``. The folder is checked before insightface is
constructed: insightface would try to download a missing pack, and an empty folder gives a bare
AssertionError. Pretrained insightface packs are for non-commercial research use only.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from core.errors import ModelUnavailable
from core.models import LazyModel


@dataclass
class DetectedFace:
    bbox: tuple[float, float, float, float]  # x1, y1, x2, y2 in the pixels of the image given
    det_score: float
    embedding: np.ndarray  # L2-normalised

    @property
    def area(self) -> float:
        x1, y1, x2, y2 = self.bbox
        return max(0.0, x2 - x1) * max(0.0, y2 - y1)


class FaceModel(Protocol):
    name: str

    def load(self): ...

    def detect(self, rgb: np.ndarray) -> list[DetectedFace]: ...


INSIGHTFACE_HOME = Path("~/.insightface/models")


def pack_folder(source: str) -> Path:
    """The folder ``models.faces`` names (as resolved by ``core.models.model_source``): a folder, or a pack name
    under insightface's own folder."""
    folder = Path(source).expanduser()
    if not folder.is_absolute() and "/" not in source:
        folder = INSIGHTFACE_HOME.expanduser() / source
    return folder.resolve()


def pack_problem(folder: Path) -> tuple[str, str] | None:
    """(what is wrong with the pack folder, the fix), or None when it holds a detection and a recognition model."""
    if not folder.is_dir():
        return (f"there is no folder {folder}",
                f"download the insightface pack (e.g. buffalo_l.zip from the insightface model zoo) and unzip it to "
                f"{folder}, or set models.faces to a pack folder path, or to \"none\" to index without faces.")
    onnx = sorted(folder.glob("*.onnx"))
    if len(onnx) < 2:
        return (f"the folder {folder} must hold a detection and a recognition .onnx model (found: "
                f"{[f.name for f in onnx] or 'nothing'})",
                "unzip the complete pack there (buffalo_l: det_10g.onnx + w600k_r50.onnx), or set models.faces to "
                "another pack.")
    return None


class InsightFaceModel(LazyModel):
    """FaceAnalysis restricted to detection + recognition. The pack folder is checked before insightface runs
    (it would try to download a missing pack); the model loads on first use."""

    kind = "face model pack"
    alternatives = 'models.faces = "none": videos are indexed without member tags (enrol and --retag later).'

    def __init__(self, source: str, device: str = "cpu", min_det_score: float = 0.5, det_size: int = 640):
        self.folder = pack_folder(source)
        super().__init__(self.folder.name)
        self.device = device
        self.min_det_score = min_det_score
        self.det_size = det_size
        self._tmp: tempfile.TemporaryDirectory | None = None

    def _root(self) -> Path:
        # FaceAnalysis wants <root>/models/<name>; give it that shape without touching the pack folder.
        if self.folder.parent.name == "models":
            return self.folder.parent.parent
        self._tmp = tempfile.TemporaryDirectory(prefix="mvse-faces-")
        models = Path(self._tmp.name) / "models"
        models.mkdir()
        (models / self.name).symlink_to(self.folder, target_is_directory=True)
        return Path(self._tmp.name)

    @property
    def fix(self) -> str:
        problem = pack_problem(self.folder)
        return problem[1] if problem else ("check that the pack's .onnx files are complete, or set models.faces to "
                                           "another pack or \"none\".")

    def unavailable(self) -> str | None:
        problem = pack_problem(self.folder)
        return problem[0] if problem else None

    def _load(self):
        problem = pack_problem(self.folder)
        if problem:
            raise ModelUnavailable(f"Face model pack {self.name!r} not usable: {problem[0]}. Fix: {problem[1]}")
        from insightface.app import FaceAnalysis

        gpu = self.device.startswith("cuda")
        providers = (["CUDAExecutionProvider"] if gpu else []) + ["CPUExecutionProvider"]
        app = FaceAnalysis(name=self.name, root=str(self._root()), providers=providers,
                           allowed_modules=["detection", "recognition"])
        app.prepare(ctx_id=0 if gpu else -1, det_thresh=self.min_det_score, det_size=(self.det_size, self.det_size))
        return app

    def detect(self, rgb: np.ndarray) -> list[DetectedFace]:
        faces = self.load().get(np.ascontiguousarray(rgb[:, :, ::-1]))  # insightface wants BGR
        out = []
        for f in faces:
            if f.normed_embedding is None or float(f.det_score) < self.min_det_score:
                continue
            out.append(DetectedFace(bbox=tuple(float(v) for v in f.bbox), det_score=float(f.det_score),
                                    embedding=np.asarray(f.normed_embedding, dtype=np.float32)))
        return out


def largest_face(faces: list[DetectedFace]) -> DetectedFace | None:
    return max(faces, key=lambda f: f.area, default=None)
