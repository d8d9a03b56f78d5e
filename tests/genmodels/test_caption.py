"""The ``text`` backend: an LM's narration as a caption card clip, with provenance."""

from __future__ import annotations

import time
from pathlib import Path

import av
import pytest

from genmodels.backend import WorkerConfig
from genmodels.caption import MAX_CHARS, CaptionBackend, narration
from genmodels.jobs import Job
from tests.genmodels.media_film import context
from tests.genmodels.tiny_lm import build_tiny_lm


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('Assistant: "The train slows down." Then more.', "The train slows down."),
        ("  the lights\n flicker   and die  ", "the lights flicker and die"),
        ("Narration: Mara waits! She never waits.", "Mara waits!"),
        ("", ""),
    ],
)
def test_narration_keeps_one_clean_sentence(raw: str, expected: str):
    assert narration(raw) == expected


def test_narration_is_cut_at_a_word_to_fit_a_card():
    text = narration(" ".join(["carriage"] * 60))
    assert len(text) <= MAX_CHARS and text.endswith("…") and "carriag…" not in text


def test_the_text_backend_writes_a_caption_card_with_its_provenance(tmp_path: Path):
    model = build_tiny_lm(tmp_path / "lm", chat_template=True)
    media = tmp_path / "media"
    backend = CaptionBackend(WorkerConfig(media_dir=media, text_model=str(model), device="cpu"))
    job = Job(
        room="ABCDEF", scene="card", backend="text", prompt="The train enters the tunnel",
        title="Meanwhile", duration_s=2.0, seed=3, deadline=time.time() + 60,
        renditions=("360p",),
    )  # fmt: skip
    progress: list[tuple[float, str]] = []
    output = backend.run(job, context(media, progress))
    assert output.media == f"generated/{job.id}"
    clip = media / output.media / "360p.ts"
    with av.open(str(clip)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames >= 50  # two seconds of card
    provenance = output.provenance
    assert (provenance.backend, provenance.model, provenance.seed) == ("text", "lm", 3)
    assert provenance.text and len(provenance.text) <= MAX_CHARS
    assert {"load", "generate", "encode"} <= set(provenance.timings)
    assert [stage for _, stage in progress][:2] == ["load", "generate"]
