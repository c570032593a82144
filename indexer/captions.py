"""Stage 5, captions: EILEV (video BLIP-2, several frames per segment), plain BLIP-2, or none.

EILEV checkpoints are BLIP-2 weights used with a video-aware forward pass: each frame goes through the
vision encoder and the frame features are concatenated before the Q-Former. ``VideoBlip2`` is our own
small subclass of ``Blip2ForConditionalGeneration`` doing that; plain BLIP-2 captions the middle frame.
The two are small classes on one lazy model base (``core.models.LazyModel``): a hub name or a local folder,
so a test model in a folder takes the same path as the real one.
"""
from __future__ import annotations

import os
from typing import Protocol

import numpy as np

from core.models import LazyModel, is_local, set_torch_threads

EILEV_DEFAULT = "kpyu/eilev-blip2-opt-2.7b"
BLIP2_DEFAULT = "Salesforce/blip2-opt-2.7b"
EILEV_PROMPT = "Question: What is the camera wearer doing? Answer:"
OPT_NEWLINE_EOS = 50118  # "\n" in OPT's vocabulary: EILEV's published eos for OPT


class Captioner(Protocol):
    name: str

    def load(self): ...

    def caption(self, frames: list[np.ndarray]) -> str:
        """One caption for a segment from its frames (RGB uint8)."""


def _video_blip2_class():
    import torch
    from transformers import Blip2ForConditionalGeneration

    class VideoBlip2(Blip2ForConditionalGeneration):
        """BLIP-2 whose vision path takes (batch, frames, C, H, W) and concatenates frame features."""

        def video_query_embeds(self, pixel_values: torch.Tensor) -> torch.Tensor:
            if pixel_values.dim() == 4:
                pixel_values = pixel_values.unsqueeze(1)
            b, n = pixel_values.shape[:2]
            frames = pixel_values.flatten(0, 1)
            feats = self.vision_model(frames, return_dict=True).last_hidden_state  # (b*n, P, D)
            feats = feats.reshape(b, n * feats.shape[1], feats.shape[2])        # (b, n*P, D)
            mask = torch.ones(feats.shape[:-1], dtype=torch.long, device=feats.device)
            queries = self.query_tokens.expand(b, -1, -1)
            out = self.qformer(query_embeds=queries, encoder_hidden_states=feats, encoder_attention_mask=mask,
                               return_dict=True).last_hidden_state
            return self.language_projection(out.to(feats.dtype))

        @torch.no_grad()
        def generate_from_video(self, pixel_values, input_ids, attention_mask=None, **generate_kwargs):
            query = self.video_query_embeds(pixel_values)
            embeds = self.get_input_embeddings()(input_ids)
            slots = (input_ids == self.config.image_token_id).unsqueeze(-1)
            if int(slots.sum()) != query.shape[0] * query.shape[1]:
                raise ValueError(f"the prompt holds {int(slots.sum())} image tokens, the Q-Former gives "
                                 f"{query.shape[0] * query.shape[1]}: processor and model num_query_tokens differ")
            embeds = embeds.masked_scatter(slots.to(embeds.device), query.to(embeds.device, embeds.dtype))
            if attention_mask is None:
                attention_mask = torch.ones_like(input_ids)
            inputs = {"inputs_embeds": embeds, "attention_mask": attention_mask}
            if not self.language_model.config.is_encoder_decoder:
                inputs["input_ids"] = input_ids
            return self.language_model.generate(**inputs, **generate_kwargs)

    return VideoBlip2


class Blip2Captioner(LazyModel):
    """Plain BLIP-2: captions the segment's middle frame, no prompt."""

    kind = "caption model"
    fix = ("download it once with network access (huggingface-cli download NAME), or set "
           "models.caption_model to a local BLIP-2 folder, or models.captioner to \"none\".")
    alternatives = ('models.captioner = "none": segments get no machine caption; subtitles, faces and edited '
                    "captions are still searched.")
    prompt = ""

    def __init__(self, model: str, device: str = "cpu", num_beams: int = 5, max_new_tokens: int = 32,
                 threads: int | None = None):
        super().__init__(model)
        self.device, self.threads = device, threads
        self.generate_kwargs = {"num_beams": num_beams, "max_new_tokens": max_new_tokens, "do_sample": False}

    def _network_class(self):
        from transformers import Blip2ForConditionalGeneration

        return Blip2ForConditionalGeneration

    def _load(self):
        import torch
        from transformers import AutoProcessor

        set_torch_threads(self.threads)
        offline = os.environ.get("HF_HUB_OFFLINE") == "1" or is_local(self.name)
        dtype = torch.float16 if self.device.startswith("cuda") else torch.float32
        net = self._network_class().from_pretrained(self.name, dtype=dtype, local_files_only=offline)
        net = net.to(self.device).eval()
        proc = AutoProcessor.from_pretrained(self.name, local_files_only=offline)
        text_cfg = net.config.text_config
        if getattr(text_cfg, "model_type", "") == "opt" and text_cfg.vocab_size > OPT_NEWLINE_EOS:
            self.generate_kwargs["eos_token_id"] = OPT_NEWLINE_EOS
        return net, proc

    def caption(self, frames: list[np.ndarray]) -> str:
        from PIL import Image

        net, proc = self.load()
        if not frames:
            return ""
        images = [Image.fromarray(f) for f in self._pick(frames)]
        inputs = proc(images=images[:1], text=[self.prompt], return_tensors="pt")
        out = self._generate(net, proc, images, inputs)
        prompt_len = inputs["input_ids"].shape[1]
        if not net.config.text_config.is_encoder_decoder:
            out = out[:, prompt_len:] if out.shape[1] > prompt_len else out
        return _clean(proc.tokenizer.decode(out[0], skip_special_tokens=True))

    def _pick(self, frames: list[np.ndarray]) -> list[np.ndarray]:
        return [frames[len(frames) // 2]]

    def _generate(self, net, proc, images, inputs):
        import torch

        inputs = {k: (v.to(self.device, net.dtype) if v.is_floating_point() else v.to(self.device))
                  for k, v in inputs.items()}
        with torch.inference_mode():
            return net.generate(**inputs, **self.generate_kwargs)


class EilevCaptioner(Blip2Captioner):
    """EILEV: every sampled frame through the vision encoder of a video-aware BLIP-2, EILEV's prompt and
    published generation settings."""

    prompt = EILEV_PROMPT

    def __init__(self, model: str, device: str = "cpu", **kwargs):
        super().__init__(model, device=device, **kwargs)
        self.generate_kwargs["length_penalty"] = -1.0

    def _network_class(self):
        return _video_blip2_class()

    def _pick(self, frames: list[np.ndarray]) -> list[np.ndarray]:
        return frames

    def _generate(self, net, proc, images, inputs):
        import torch

        pixels = proc.image_processor(images, return_tensors="pt")["pixel_values"].unsqueeze(0)
        with torch.inference_mode():
            return net.generate_from_video(pixels.to(self.device, net.dtype), inputs["input_ids"].to(self.device),
                                           inputs["attention_mask"].to(self.device), **self.generate_kwargs)


def _clean(text: str) -> str:
    return " ".join(text.replace("\n", " ").split()).strip()
