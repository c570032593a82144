"""Fixtures of the indexer tests: a synthetic video with hard cuts and a tiny random BLIP-2 folder."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

SCENES = [("testsrc", 4.0), ("color=c=red", 3.0), ("color=c=blue", 5.0)]  # cuts at 4 s and 7 s, 12 s long


def make_video(out: Path, scenes=SCENES, size: str = "320x240", rate: int = 25) -> Path:
    import imageio_ffmpeg

    args = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error"]
    for src, dur in scenes:
        spec = f"{src}:d={dur}:s={size}:r={rate}" if src.startswith("color") else f"{src}=d={dur}:s={size}:r={rate}"
        args += ["-f", "lavfi", "-i", spec]
    inputs = "".join(f"[{i}:v]" for i in range(len(scenes)))
    args += ["-filter_complex", f"{inputs}concat=n={len(scenes)}:v=1:a=0[v]", "-map", "[v]",
             "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", str(out)]
    subprocess.run(args, check=True, timeout=120)
    return out


@pytest.fixture(scope="session")
def synthetic_video_master(tmp_path_factory) -> Path:
    return make_video(tmp_path_factory.mktemp("video") / "three_scenes.mp4")


@pytest.fixture
def synthetic_video(tmp_path, synthetic_video_master) -> Path:
    """A private copy (its id depends on its path), in its own folder."""
    folder = tmp_path / "library"
    folder.mkdir()
    dst = folder / "three_scenes.mp4"
    dst.write_bytes(synthetic_video_master.read_bytes())
    return dst


_WORDS = "a photo of the person is dancing singing on stage with guitar red blue man woman".split()


def build_tiny_blip2(out: Path) -> Path:
    """A random BLIP-2 (OPT) of a few hundred KB, saved like a hub checkpoint (STACK_NOTES section 3)."""
    import torch
    from tokenizers import Tokenizer, pre_tokenizers
    from tokenizers import models as tm
    from transformers import (
        Blip2Config,
        Blip2ForConditionalGeneration,
        Blip2Processor,
        Blip2QFormerConfig,
        Blip2VisionConfig,
        BlipImageProcessorPil,
        OPTConfig,
        PreTrainedTokenizerFast,
    )

    torch.manual_seed(0)
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for w in dict.fromkeys(_WORDS + "question what camera wearer doing ? answer :".split()):
        vocab[w] = len(vocab)
    tk = Tokenizer(tm.WordLevel(vocab, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, bos_token="</s>", eos_token="</s>", pad_token="<pad>",
                                  unk_token="<unk>", padding_side="left", add_bos_token=True)
    nq = 4
    proc = Blip2Processor(image_processor=BlipImageProcessorPil(size={"height": 32, "width": 32}), tokenizer=tok,
                          num_query_tokens=nq)
    cfg = Blip2Config(
        vision_config=Blip2VisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                        num_attention_heads=2, image_size=32, patch_size=8).to_dict(),
        qformer_config=Blip2QFormerConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                          num_attention_heads=2, encoder_hidden_size=32, vocab_size=64,
                                          max_position_embeddings=64).to_dict(),
        text_config=OPTConfig(vocab_size=len(tok), hidden_size=32, ffn_dim=64, num_hidden_layers=2,
                              num_attention_heads=2, max_position_embeddings=128, word_embed_proj_dim=32,
                              pad_token_id=1, bos_token_id=2, eos_token_id=2).to_dict(),
        num_query_tokens=nq, image_token_index=tok.convert_tokens_to_ids("<image>"))
    model = Blip2ForConditionalGeneration(cfg).eval()
    # Push the output away from </s> so generated captions are not empty.
    with torch.no_grad():
        model.language_model.lm_head.weight[2].zero_()
    model.save_pretrained(out)
    proc.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_blip2_dir(tmp_path_factory) -> Path:
    return build_tiny_blip2(tmp_path_factory.mktemp("tiny_blip2"))


@pytest.fixture(scope="session")
def face_pack_dir() -> Path:
    from tests.helpers import asset

    return asset("models/face_pack_small")
