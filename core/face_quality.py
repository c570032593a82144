"""The quality gate a face passes before it enters a member's gallery (``indexer enroll`` and the Members page).

A gallery face is what every video frame is compared against, so a poor one (tiny, a doubtful detection, blurred)
spoils matching for that member everywhere. The rules come from the config's ``faces.gallery_*`` keys (they depend
on the face model: a small detector's scores run lower). Pure numpy/OpenCV: no model, no database.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SHARPNESS_SIDE = 112        # the face crop is resized to this square before measuring, so sizes compare fairly


@dataclass(frozen=True)
class GalleryRules:
    min_face_px: int = 40           # the face box's shorter side, in the photo's pixels
    min_det_score: float = 0.6      # the detector's confidence
    min_sharpness: float = 40.0     # variance of the Laplacian of the grey face crop at SHARPNESS_SIDE px

    @classmethod
    def from_config(cls, faces_cfg) -> GalleryRules:
        return cls(min_face_px=faces_cfg.gallery_min_face_px, min_det_score=faces_cfg.gallery_min_det_score,
                   min_sharpness=faces_cfg.gallery_min_sharpness)


@dataclass(frozen=True)
class FaceMeasures:
    width: int
    height: int
    det_score: float
    sharpness: float


def face_box(image_shape: tuple, bbox) -> tuple[int, int, int, int]:
    """The detector's box rounded and clipped to the image: x1, y1, x2, y2."""
    h, w = image_shape[:2]
    x1, y1, x2, y2 = (int(round(v)) for v in bbox)
    return max(0, x1), max(0, y1), min(w, x2), min(h, y2)


def sharpness(image_rgb: np.ndarray, bbox) -> float:
    """Variance of the Laplacian of the grey face crop resized to SHARPNESS_SIDE² (high = sharp edges)."""
    import cv2

    x1, y1, x2, y2 = face_box(image_rgb.shape, bbox)
    if x2 - x1 < 2 or y2 - y1 < 2:
        return 0.0
    grey = cv2.cvtColor(np.ascontiguousarray(image_rgb[y1:y2, x1:x2]), cv2.COLOR_RGB2GRAY)
    grey = cv2.resize(grey, (SHARPNESS_SIDE, SHARPNESS_SIDE), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(grey.astype(np.float64), cv2.CV_64F).var())


def measure(image_rgb: np.ndarray, face) -> FaceMeasures:
    """Size, detection score and sharpness of ``face`` (anything with ``bbox`` and ``det_score``)."""
    x1, y1, x2, y2 = face_box(image_rgb.shape, face.bbox)
    return FaceMeasures(width=max(0, x2 - x1), height=max(0, y2 - y1), det_score=float(face.det_score),
                        sharpness=sharpness(image_rgb, face.bbox))


def reasons_for(m: FaceMeasures, rules: GalleryRules) -> list[str]:
    out = []
    if min(m.width, m.height) < rules.min_face_px:
        out.append(f"face is {m.width}×{m.height} px, smaller than {rules.min_face_px} px")
    if m.det_score < rules.min_det_score:
        out.append(f"detection score {m.det_score:.2f} < {rules.min_det_score:.2f}")
    if m.sharpness < rules.min_sharpness:
        out.append(f"blurry: sharpness {m.sharpness:.0f} < {rules.min_sharpness:.0f} (variance of the Laplacian)")
    return out


def check_face(image_rgb: np.ndarray, face, rules: GalleryRules) -> list[str]:
    """Why ``face`` may not enter a gallery; empty when it is accepted."""
    return reasons_for(measure(image_rgb, face), rules)
