"""A synthetic face video for the pulse tests: a skin-coloured oval whose colour pulses.

Realistic on purpose: the pulsatile change is 0.3 % of the skin colour (camera rPPG sees
0.1–1 %) along the blood-volume signature in normalised RGB (green strongest), the pulse
has a harmonic, the light drifts by ±2 % (far larger than the pulse), each pixel carries
sensor noise (σ = 3 levels) and the frames are quantised to 8 bits and jittered in time.
"""

from __future__ import annotations

import numpy as np

from affect.rppg import Box

HEIGHT, WIDTH = 120, 160
SKIN = np.array([190.0, 140.0, 120.0])
BACKGROUND = np.array([60.0, 62.0, 70.0])
SIGNATURE = np.array([0.33, 0.77, 0.53])  # blood-volume pulse in normalised RGB
# forehead and both cheeks of the oval, as `skin_patches` would place them on a real face
PATCHES = [Box(60, 20, 100, 35), Box(50, 60, 70, 75), Box(90, 60, 110, 75)]


def pulse_video(bpm, *, seconds=10.0, fps=30.0, amplitude=0.003, seed=0):
    """Frames (H×W×3 uint8) and their times; ``bpm=None`` gives the same video, no pulse."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH]
    oval = (((xx - 80) / 40) ** 2 + ((yy - 60) / 52) ** 2 <= 1)[..., None]
    frames, times = [], []
    for i in range(int(seconds * fps)):
        t = i / fps + rng.normal(0, 0.003)
        phase = 2 * np.pi * (bpm or 0) / 60 * t
        pulse = np.sin(phase) + 0.3 * np.sin(2 * phase + 0.5) if bpm else 0.0
        light = 1 + 0.02 * np.sin(2 * np.pi * 0.13 * t) + 0.01 * np.sin(2 * np.pi * 0.5 * t)
        colour = SKIN * (1 + amplitude * pulse * SIGNATURE) * light
        frame = np.where(oval, colour, BACKGROUND * light)
        frame = frame + rng.normal(0, 3.0, frame.shape)
        frames.append(np.clip(np.round(frame), 0, 255).astype(np.uint8))
        times.append(t)
    return frames, times
