"""One place that turns the config into the stage implementations (real models by default)."""
from __future__ import annotations

from dataclasses import dataclass

from indexer.captions import BLIP2_DEFAULT, EILEV_DEFAULT, Blip2Captioner, Captioner
from indexer.faces import FaceModel, InsightFaceModel
from indexer.frames import FfmpegFrames, FrameSource
from indexer.probe import FfmpegProber, Prober
from indexer.shots import SceneDetectShots, ShotDetector

FRAMES_PER_SECOND = 2.0  # decode rate; face frames are taken from it at faces.sample_fps


@dataclass
class Stages:
    probe: Prober
    shots: ShotDetector
    frames: FrameSource
    faces: FaceModel | None
    captioner: Captioner | None

    def load(self) -> None:
        """Load the models now, so a missing one stops the run before any video is touched."""
        for stage in (self.faces, self.captioner):
            if stage is not None and hasattr(stage, "load"):
                stage.load()


def face_model_from_config(cfg) -> FaceModel | None:
    if cfg.models.faces.strip().lower() == "none":
        return None
    return InsightFaceModel(cfg.models.faces, device=cfg.models.device, min_det_score=cfg.faces.min_det_score,
                            base_dir=cfg.base_dir)


def captioner_from_config(cfg) -> Captioner | None:
    kind = cfg.models.captioner
    if kind == "none":
        return None
    model = cfg.models.caption_model or (EILEV_DEFAULT if kind == "eilev" else BLIP2_DEFAULT)
    local = cfg.base_dir / model
    if not model.startswith("/") and local.is_dir():
        model = str(local.resolve())
    return Blip2Captioner(model, device=cfg.models.device, video=(kind == "eilev"),
                          frames=cfg.indexer.caption_frames, threads=cfg.models.threads)


def stages_from_config(cfg) -> Stages:
    return Stages(
        probe=FfmpegProber(),
        shots=SceneDetectShots(threshold=cfg.indexer.scene_threshold),
        frames=FfmpegFrames(fps=max(FRAMES_PER_SECOND, cfg.faces.sample_fps)),
        faces=face_model_from_config(cfg),
        captioner=captioner_from_config(cfg),
    )
