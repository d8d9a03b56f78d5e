"""A tiny randomly initialised Stable Diffusion pipeline, saved like a real model.

Every part is the real diffusers/transformers class at toy size (a two-level UNet with
cross-attention, a two-level VAE, a two-layer CLIP text encoder, a DDIM scheduler, a CLIP
BPE tokenizer over a few words whose vocab and merges are written here), so loading it
goes through ``DiffusionPipeline.from_pretrained`` exactly as a downloaded model would.
It draws 64×64 pictures in a fraction of a second on a CPU; they are meaningless.
Nothing is downloaded.
"""

from __future__ import annotations

import json
from pathlib import Path

WORDS = [
    "the",
    "a",
    "train",
    "night",
    "door",
    "roof",
    "rain",
    "station",
    "tunnel",
    "light",
    "dark",
    "at",
    "on",
    "in",
]


def _bpe(folder: Path) -> tuple[Path, Path]:
    """A CLIP vocabulary and merges that spell each word of `WORDS` as one token."""
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    merges: list[str] = []
    for letter in "abcdefghijklmnopqrstuvwxyz":
        vocab.setdefault(letter, len(vocab))
        vocab.setdefault(letter + "</w>", len(vocab))
    for word in WORDS:
        parts = [*word[:-1], word[-1] + "</w>"]
        while len(parts) > 1:
            merges.append(f"{parts[0]} {parts[1]}")
            parts = [parts[0] + parts[1], *parts[2:]]
            vocab.setdefault(parts[0], len(vocab))
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    lines = ["#version: 0.2", *dict.fromkeys(merges)]
    (folder / "merges.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder / "vocab.json", folder / "merges.txt"


def build_tiny_sd(folder: Path, *, seed: int = 0) -> Path:
    """Save a tiny `StableDiffusionPipeline` into ``folder / "model"``; returns that path."""
    import torch
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    vocab, merges = _bpe(folder)
    tokenizer = CLIPTokenizer(vocab=str(vocab), merges=str(merges), model_max_length=32)
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16),
        layers_per_block=1,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=16,
        norm_num_groups=4,
        attention_head_dim=4,
    )
    vae = AutoencoderKL(
        block_out_channels=[8, 16],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 2,
        up_block_types=["UpDecoderBlock2D"] * 2,
        latent_channels=4,
        norm_num_groups=4,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
            hidden_size=16,
            intermediate_size=32,
            num_attention_heads=2,
            num_hidden_layers=2,
            vocab_size=len(json.loads(vocab.read_text(encoding="utf-8"))),
            max_position_embeddings=32,
            projection_dim=16,
        )
    )
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )
    pipeline = StableDiffusionPipeline(
        unet=unet,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipeline.save_pretrained(folder / "model")
    return folder / "model"
