"""The diffusion backend on a tiny randomly initialised Stable Diffusion, on the CPU."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from genmodels.backend import GenerationError, StyleRejected, WorkerConfig
from genmodels.diffusion import DiffusionBackend, to_frames
from genmodels.jobs import Job
from genmodels.style import srgb_to_lab
from mobile_bridge.media.library import MediaLibrary
from mobile_bridge.media.manifest import Manifest
from narrative.story import Style
from tests.genmodels.media_film import context, make_media
from tests.genmodels.tiny_diffusion import build_tiny_sd
from tests.mobile_bridge.media_clips import decoded_frames

ROOT = Path(__file__).resolve().parents[2]
STYLE = Style(references=["film/red", "film/blue"], palette=["#dc1e1e", "#1e28dc"])


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return make_media(
        tmp_path_factory.mktemp("diffusion"), {"film/red": "red", "film/blue": "blue"}
    )


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return build_tiny_sd(tmp_path_factory.mktemp("tiny-sd"))


@pytest.fixture(scope="module")
def backend(media, model):
    config = WorkerConfig(
        media, diffusion_model=str(model), device="cpu", diffusion_steps=2, diffusion_size=(64, 64)
    )
    return DiffusionBackend(config)


def job(**fields):
    values = {"room": "ROOM", "scene": "dream", "backend": "diffusion"}
    values |= {"prompt": "the train at night", "duration_s": 3.0, "seed": 4, "deadline": 0.0}
    return Job(**(values | {"renditions": ("360p",)} | fields))


def frames_of(media, media_id):
    return decoded_frames(MediaLibrary(media).rendition(media_id, "360p").path)


def hashes(frames):
    return [hashlib.sha256(f.tobytes()).hexdigest() for f in frames]


def test_building_the_backend_imports_no_torch(tmp_path):
    code = (
        "import sys; from pathlib import Path\n"
        "from genmodels.backend import WorkerConfig\n"
        "from genmodels.diffusion import DiffusionBackend\n"
        "DiffusionBackend(WorkerConfig(Path('.'), diffusion_model='x'))\n"
        "assert not {'torch', 'diffusers', 'transformers'} & set(sys.modules), 'imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


def test_a_clip_from_the_model_s_keyframes(media, model, backend):
    log = []
    made = job(style=STYLE.model_copy(update={"threshold": 0.0}), title="A dream")
    output = backend.run(made, context(media, log))
    assert Manifest.load(media).media[output.media].source.path == "generated:diffusion"
    info = MediaLibrary(media).rendition(output.media, "360p").info
    assert (info.width, info.height, info.audio) == (640, 360, True)
    assert abs(info.duration_s - 3.0) <= 2 / 30
    frames = frames_of(media, output.media)
    assert len(frames) == 90
    card, picture = frames[15], frames[75]
    assert srgb_to_lab(card[5, 5])[0] < 20 < srgb_to_lab(card.reshape(-1, 3)).max(axis=0)[0]
    assert np.abs(card.astype(int) - picture).mean() > 15  # the title card, then the pictures
    assert np.abs(frames[70].astype(int) - frames[80].astype(int)).mean() > 0.5  # it moves
    p = output.provenance
    assert (p.backend, p.model, p.seed, p.prompt) == ("diffusion", str(model), 4, made.prompt)
    assert {"load", "sample", "style", "compose", "encode"} <= set(p.timings)
    assert p.style_score is not None and 0 <= p.style_score <= 1
    assert [s for _, s in log][:2] == ["load", "sample"] and log[-1] == (1.0, "done")
    assert "sample" in [s for f, s in log if 0.1 < f < 0.7]  # per denoising step


def test_a_seed_makes_the_same_clip_and_the_model_loads_once(media, backend):
    first = backend.run(job(seed=9), context(media))
    pipeline = backend._pipe
    again = backend.run(job(seed=9), context(media))
    other = backend.run(job(seed=10), context(media))
    assert backend._pipe is pipeline and again.provenance.timings["load"] < 0.01
    same = hashes(frames_of(media, first.media))
    assert same == hashes(frames_of(media, again.media))
    assert same != hashes(frames_of(media, other.media))


def test_pictures_off_the_film_s_style_are_rejected(media, backend):
    with pytest.raises(StyleRejected) as rejected:
        backend.run(job(style=STYLE), context(media))  # random weights draw no train
    assert rejected.value.score < STYLE.threshold
    assert rejected.value.provenance.model.endswith("model")


def test_a_video_pipeline_s_frames_play_across_the_clip(media, monkeypatch):
    calls = []

    def video_pipeline(*, prompt, image, generator, output_type):
        calls.append((prompt, image, output_type))
        ramp = np.linspace(0, 1, 8, dtype=np.float32)[:, None, None, None]
        return SimpleNamespace(frames=[np.broadcast_to(ramp, (8, 48, 64, 3))])

    backend = DiffusionBackend(WorkerConfig(media, diffusion_model="video", device="cpu"))
    monkeypatch.setattr(backend, "_pipeline", lambda model: video_pipeline)
    output = backend.run(job(sources=("film/blue",), duration_s=2.0), context(media))
    ((prompt, image, output_type),) = calls
    assert prompt == "the train at night" and output_type == "np"
    assert image.size == (640, 360)  # conditioned on a frame of the film
    frames = frames_of(media, output.media)
    assert frames[5].mean() < 60 < 180 < frames[-5].mean()  # dark to light, as made


def test_pictures_come_as_arrays_or_images():
    from PIL import Image

    batch = np.zeros((2, 4, 6, 3), np.float32)
    batch[1] = 1.0
    frames = to_frames(batch)
    assert [f.shape for f in frames] == [(4, 6, 3)] * 2 and frames[1].max() == 255
    assert to_frames([Image.new("RGB", (6, 4), (9, 9, 9))])[0][0, 0].tolist() == [9, 9, 9]


def test_failures_have_codes(media, tmp_path):
    cases = [
        (WorkerConfig(media), "diffusion-no-model"),
        (WorkerConfig(media, diffusion_model=str(tmp_path)), "diffusion-load-failed"),
        (WorkerConfig(media, diffusion_model="m", device="tpu"), "bad-device"),
    ]
    for config, code in cases:
        with pytest.raises(GenerationError) as failed:
            DiffusionBackend(config).run(job(), context(media))
        assert failed.value.code == code


def test_asking_for_a_gpu_that_is_not_there(media, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # also on a GPU machine
    with pytest.raises(GenerationError) as failed:
        DiffusionBackend(WorkerConfig(media, diffusion_model="m", device="cuda")).run(
            job(), context(media)
        )
    assert failed.value.code == "diffusion-no-cuda"
