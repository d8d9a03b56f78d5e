"""The moving picture of one demo-film scene, drawn straight into YUV 4:2:0 with numpy.

Every scene gets its own hue (the golden-ratio walk round the colour wheel, so
neighbouring scenes differ), a title card for its first seconds (the story title and
the scene's name), then a scrolling colour wave with three bright boxes on Lissajous
paths, the scene name in a band at the top and a running timecode at the bottom. A
viewer, and a test decoding frames, can tell scenes apart by colour and name and see
every frame move.

Speed is the point: the whole demo film (~520 s, two renditions) is drawn in well under
a minute, so nothing is drawn per frame but slices of arrays computed once per scene, a
few box fills and the timecode text (Pillow, a small image). Frames come out in the
planar layout `av.VideoFrame.from_ndarray(..., format="yuv420p")` takes: the Y plane
(``height`` rows) over the U and V planes (``height / 4`` rows each at full width).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

Plane = npt.NDArray[np.uint8]

_GOLDEN = 0.618033988749895
_DARK, _LIGHT = 24, 232


def scene_hue(index: int) -> float:
    """The hue (0–1) of the scene at ``index``: far from its neighbours'."""
    return (0.08 + index * _GOLDEN) % 1.0


def _chroma(hue: float, strength: float) -> tuple[int, int]:
    angle = 2 * math.pi * hue
    return round(128 + strength * math.cos(angle)), round(128 + strength * math.sin(angle))


def _text_plane(text: str, size: int, width: int, height: int) -> Plane:
    """White text on black, ``width × height``, centred; a luma plane."""
    image = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=size)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    x = (width - (right - left)) // 2 - left
    y = (height - (bottom - top)) // 2 - top
    draw.text((x, y), text, fill=255, font=font)
    return np.asarray(image, dtype=np.uint8)


def _even(value: float) -> int:
    return int(value) & ~1


class ScenePicture:
    """Frames of one scene at one picture size.

    Args:
        width, height: the picture size (even numbers).
        title: the story title, on the title card.
        label: the scene's name, on the title card and burned into every frame.
        index: the scene's position in the film; picks its hue and motion.
        fps: the frame rate (for the timecode and the motion).
        title_card_s: how long the title card stays up.
    """

    def __init__(
        self,
        width: int,
        height: int,
        *,
        title: str,
        label: str,
        index: int,
        fps: Fraction,
        title_card_s: float,
    ) -> None:
        self.width, self.height = width, height
        self.fps = fps
        self.title_frames = round(title_card_s * fps)
        self.hue = scene_hue(index)
        self._speed = max(2, width // 160) * (1 + index % 3)  # pixels per frame
        self._phase = index * 1.7
        w, h = width, height
        # A wave that repeats every `w` pixels, drawn 2w wide so a scroll is a slice.
        x = np.arange(2 * w, dtype=np.float32)[None, :]
        y = np.arange(h, dtype=np.float32)[:, None]
        wave = np.sin(2 * np.pi * (x / w * 2 + y / h * 0.5)) * np.cos(2 * np.pi * y / h)
        self._luma = (110 + 60 * wave).astype(np.uint8)
        u, v = _chroma(self.hue, 60)
        xc = np.arange(w, dtype=np.float32)[None, :]  # chroma: half size, 2w/2 wide
        yc = np.arange(h // 2, dtype=np.float32)[:, None]
        swing = 20 * np.sin(2 * np.pi * (xc / (w / 2) * 2 + yc / h))
        self._u = np.clip(u + swing, 0, 255).astype(np.uint8)
        self._v = np.clip(v - swing, 0, 255).astype(np.uint8)
        self._box = _even(h / 6)
        self._box_uv = _chroma(self.hue + 0.5, 90)
        band_h = _even(h / 9)
        self._band = _text_plane(label, max(10, h // 14), w, band_h)
        self._tc_size = (_even(w / 4), _even(h / 12))
        self._tc_font = ImageFont.load_default(size=max(9, h // 18))
        self._title = self._title_card(title, label)

    def _title_card(self, title: str, label: str) -> Plane:
        w, h = self.width, self.height
        card = np.full((h * 3 // 2, w), _DARK, dtype=np.uint8)
        card[: h // 3] = _text_plane(title, max(10, h // 16), w, h // 3)
        card[h // 3 : h // 3 * 2] = _text_plane(label, max(12, h // 8), w, h // 3)
        card[h // 3 * 2 : h] = _text_plane(
            "a Kinoroom demo film", max(8, h // 28), w, h - h // 3 * 2
        )
        card[:h] = np.maximum(card[:h], _DARK)
        u, v = _chroma(self.hue, 25)
        quarter = h // 4
        card[h : h + quarter] = u
        card[h + quarter :] = v
        return card

    def _timecode(self, n: int) -> Plane:
        seconds = n / float(self.fps)
        frame = n % max(1, round(self.fps))
        text = f"{int(seconds // 60):02d}:{int(seconds % 60):02d}:{frame:02d}"
        image = Image.new("L", self._tc_size, _DARK)
        ImageDraw.Draw(image).text((4, 2), text, fill=_LIGHT, font=self._tc_font)
        return np.asarray(image, dtype=np.uint8)

    def frame(self, n: int) -> Plane:
        """Frame ``n`` (0-based) as a ``(height * 3 / 2, width)`` yuv420p array."""
        if n < self.title_frames:
            return self._title
        w, h = self.width, self.height
        out = np.empty((h * 3 // 2, w), dtype=np.uint8)
        shift = (n * self._speed) % w
        out[:h] = self._luma[:, shift : shift + w]
        # Chroma planes: each is (h/2) × (w/2), stored as h/4 rows of full width.
        cshift = shift // 2
        u_plane = self._u[:, cshift : cshift + w // 2]
        v_plane = self._v[:, cshift : cshift + w // 2]
        quarter = h // 4
        out[h : h + quarter] = u_plane.reshape(quarter, w)
        out[h + quarter :] = v_plane.reshape(quarter, w)
        u_view = out[h : h + quarter].reshape(h // 2, w // 2)
        v_view = out[h + quarter :].reshape(h // 2, w // 2)
        t = n / float(self.fps)
        box = self._box
        for k in range(3):
            cx = (0.5 + 0.38 * math.sin(t * (0.7 + 0.3 * k) + self._phase + k * 2.1)) * w
            cy = (0.55 + 0.3 * math.cos(t * (0.9 + 0.2 * k) + self._phase + k)) * h
            x0 = min(max(0, _even(cx - box / 2)), w - box)
            y0 = min(max(0, _even(cy - box / 2)), h - box)
            out[y0 : y0 + box, x0 : x0 + box] = _LIGHT - 40 * k
            u_view[y0 // 2 : (y0 + box) // 2, x0 // 2 : (x0 + box) // 2] = self._box_uv[0]
            v_view[y0 // 2 : (y0 + box) // 2, x0 // 2 : (x0 + box) // 2] = self._box_uv[1]
        band_h = self._band.shape[0]
        out[:band_h] = np.maximum(self._band, _DARK)
        u_view[: band_h // 2] = 128
        v_view[: band_h // 2] = 128
        tw, th = self._tc_size
        out[h - th : h, w - tw : w] = self._timecode(n)
        u_view[(h - th) // 2 :, (w - tw) // 2 :] = 128
        v_view[(h - th) // 2 :, (w - tw) // 2 :] = 128
        return out


__all__ = ["ScenePicture", "scene_hue"]
