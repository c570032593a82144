"""One place that turns the config into the stage implementations (real models by default)."""
from __future__ import annotations

from dataclasses import dataclass

from core.models import model_source
from indexer.captions import BLIP2_DEFAULT, EILEV_DEFAULT, Blip2Captioner, Captioner, EilevCaptioner
from indexer.faces import FaceModel, InsightFaceModel
from indexer.frames import FfmpegFrames, FrameSource
from indexer.probe import FfmpegProber, Prober
from indexer.shots import SceneDetectShots, ShotDetector
from indexer.speech import SpeechRecognizer, recognizer_from_config

FRAMES_PER_SECOND = 2.0  # decode rate; face frames are taken from it at faces.sample_fps


@dataclass
class Stages:
    probe: Prober
    shots: ShotDetector
    frames: FrameSource
    faces: FaceModel | None
    captioner: Captioner | None
    speech: SpeechRecognizer | None = None

    def load(self) -> None:
        """Load the models now, so a missing one stops the run before any video is touched."""
        for stage in (self.faces, self.captioner, self.speech):
            if stage is not None:
                stage.load()


# models.captioner → (class, default model when models.caption_model is unset)
CAPTIONERS: dict[str, tuple[type[Blip2Captioner], str]] = {
    "eilev": (EilevCaptioner, EILEV_DEFAULT),
    "blip2": (Blip2Captioner, BLIP2_DEFAULT),
}


def face_model_from_config(cfg) -> FaceModel | None:
    if cfg.models.faces.strip().lower() == "none":
        return None
    return InsightFaceModel(model_source(cfg, cfg.models.faces), device=cfg.models.device,
                            min_det_score=cfg.faces.min_det_score)


def captioner_from_config(cfg) -> Captioner | None:
    if cfg.models.captioner == "none":
        return None
    cls, default = CAPTIONERS[cfg.models.captioner]
    return cls(model_source(cfg, cfg.models.caption_model or default), device=cfg.models.device,
               threads=cfg.models.threads)


def stages_from_config(cfg) -> Stages:
    return Stages(
        probe=FfmpegProber(),
        shots=SceneDetectShots(threshold=cfg.indexer.scene_threshold),
        frames=FfmpegFrames(fps=max(FRAMES_PER_SECOND, cfg.faces.sample_fps)),
        faces=face_model_from_config(cfg),
        captioner=captioner_from_config(cfg),
        speech=recognizer_from_config(cfg),
    )
