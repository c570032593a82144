"""The caption backends on a tiny random BLIP-2 loaded from a folder, exactly as a real checkpoint is."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from indexer.captions import Blip2Captioner, EilevCaptioner
from tests.helpers import asset


def _frames(n, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 255, (48, 64, 3), dtype=np.uint8) for _ in range(n)]


@pytest.fixture(scope="module")
def eilev(tiny_blip2_dir):
    torch.set_num_threads(1)
    cap = EilevCaptioner(str(tiny_blip2_dir))
    cap.load()
    return cap


def test_video_path_encodes_every_frame(eilev):
    net, proc = eilev.load()
    frames = _frames(4)
    changed_last = frames[:3] + _frames(1, seed=9)
    from PIL import Image

    def query(fs):
        px = proc.image_processor([Image.fromarray(f) for f in fs], return_tensors="pt")["pixel_values"].unsqueeze(0)
        return net.video_query_embeds(px)

    with torch.no_grad():
        a, b, one = query(frames), query(changed_last), query(frames[:1])
    assert a.shape == one.shape == (1, net.config.num_query_tokens, net.config.text_config.hidden_size)
    assert not torch.allclose(a, b), "the last frame must influence the Q-Former output"


def test_eilev_and_plain_blip2_produce_text(eilev, tiny_blip2_dir):
    text = eilev.caption(_frames(4))
    assert isinstance(text, str) and text and "Question" not in text
    assert eilev.generate_kwargs["num_beams"] == 5 and eilev.generate_kwargs["length_penalty"] == -1
    assert "eos_token_id" not in eilev.generate_kwargs  # tiny vocabulary: OPT's 50118 does not apply
    plain = Blip2Captioner(str(tiny_blip2_dir), num_beams=1, max_new_tokens=8)
    assert plain.caption(_frames(3))


def test_embedding_model_mismatch_stops_before_decoding(write_config, db, synthetic_video, minilm_dir, capsys):
    from indexer.cli import main

    legacy = asset("legacy/combined_metadata_excerpt.json")
    assert main(["import-legacy", str(legacy), "--video-id", "v1", "--config", str(write_config())]) == 0
    cfg = write_config(models={"embedding": str(minilm_dir)})
    assert main(["index", str(synthetic_video), "--config", str(cfg), "--no-progress"]) == 2
    assert "indexer reembed" in capsys.readouterr().err
    with db.connection() as conn:
        assert conn.execute("SELECT count(*) AS n FROM videos WHERE source = 'indexer'").fetchone()["n"] == 0
