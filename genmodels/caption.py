"""The ``text`` backend: a causal LM writes one line of narration, shown as a caption card.

The model (`genmodels.text`, loaded once per worker process, lazily: importing this
module does not import torch) is asked, in a short chat, for one present-tense line that
bridges the story at this point from the scene's ``prompt`` (and its ``title`` as the
card's heading hint). What comes back is cleaned to one sentence of at most
`MAX_CHARS`: a small LM rambles, and a card must be read in a few seconds. The card is
rendered by the montage backend's `render_card_clip` in the story's palette and grain,
to the room's stream profile. Generation stops early when the job's deadline nears
(transformers' ``max_time``): a late card is worth nothing.
"""

from __future__ import annotations

import re
import time
from typing import cast

from genmodels.backend import GenerationError, JobContext, Output, WorkerConfig
from genmodels.jobs import Job, Provenance
from genmodels.montage import render_card_clip
from genmodels.text import Device, Message, shared_model

MAX_CHARS = 140
MAX_NEW_TOKENS = 48
SYSTEM = (
    "You write the narration for a caption card in an interactive film. Answer with one "
    "short present-tense sentence, no quotes, no preamble."
)


def narration(raw: str, limit: int = MAX_CHARS) -> str:
    """The first sentence of ``raw``: no quotes, no role prefix, at most ``limit`` chars."""
    text = re.sub(r"\s+", " ", raw).strip()
    text = re.sub(r"^(assistant|narrator|narration|caption)\s*:\s*", "", text, flags=re.I)
    text = text.strip(" \"'“”‘’")
    match = re.match(r"(.+?[.!?…])[\"'”’]*(\s|$)", text)
    if match:
        text = match.group(1)
    if len(text) > limit:
        text = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return text


class CaptionBackend:
    """Implements `genmodels.backend.Backend` for ``backend: text`` scenes."""

    name = "text"

    def __init__(self, config: WorkerConfig) -> None:
        self._config = config

    def run(self, job: Job, context: JobContext) -> Output:
        timings: dict[str, float] = {}
        began = time.perf_counter()
        context.progress(0.0, "load")
        model = shared_model(job.model or self._config.text_model, device=self._device())
        timings["load"] = round(time.perf_counter() - began, 4)
        ask = f"The scene: {job.prompt}"
        if job.title:
            ask += f"\nThe card's heading: {job.title}"
        messages: list[Message] = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": ask},
        ]
        context.progress(0.1, "generate")
        left = job.deadline - time.time()
        generation = model.generate(
            messages,
            max_new_tokens=MAX_NEW_TOKENS,
            seed=job.seed,
            temperature=0.7,
            max_time_s=max(1.0, left * 0.5) if left > 0 else 1.0,
        )
        timings["generate"] = round(generation.seconds, 4)
        text = narration(generation.text)
        if not text:
            raise GenerationError("text-empty", f"{model.name} wrote nothing usable")
        context.progress(0.5, "card")
        card = render_card_clip(job, context, text, start=0.5)
        timings.update(card.timings)
        provenance = Provenance(
            backend="text",
            model=model.name,
            prompt=job.prompt,
            seed=job.seed,
            duration_s=job.duration_s,
            timings=timings,
            style_score=None,
            worker=context.worker,
            text=text,
        )
        return Output(card.media, provenance)

    def _device(self) -> Device:
        device = self._config.device
        if device not in ("auto", "cpu", "cuda"):
            raise GenerationError("bad-device", f"unknown device {device!r}")
        return cast(Device, device)


__all__ = ["MAX_CHARS", "CaptionBackend", "narration"]
