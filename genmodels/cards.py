"""Title and caption cards: words set on a plain ground in the story's colours.

A card is the one picture a backend draws rather than cuts: the montage's title card
(`shots.CARD`, the first seconds of a titled fill-in), a caption card for the whole clip
(`montage.render_card_clip`, what the text backend's words become). It has to read on a
phone at 360p, so the type is as large as fits, from an eighth of the picture's height
down to a twenty-fourth (15 px at 360p), wrapped at word boundaries to 86 % of the
width. Its colours come from the style's palette (the darkest colour dimmed for the
ground, the lightest raised for the ink), so a card belongs to the film it interrupts.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from genmodels.style import hex_to_rgb, lab_to_srgb, srgb_to_lab
from narrative.story import Style

Frame = npt.NDArray[np.uint8]
Size = tuple[int, int]  # width, height


def card_colours(style: Style | None) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """Background and ink of a card: the palette's darkest colour dimmed to L* ≤ 15 and
    its lightest raised to L* ≥ 90 (near black and near white without a palette)."""
    if style is None or not style.palette:
        return (18, 18, 22), (236, 236, 236)
    lab = srgb_to_lab(np.array([hex_to_rgb(c) for c in style.palette], np.float32))
    dark, light = lab[np.argmin(lab[:, 0])].copy(), lab[np.argmax(lab[:, 0])].copy()
    dark[0], dark[1:] = min(dark[0], 15.0), dark[1:] * 0.5
    light[0], light[1:] = max(light[0], 90.0), light[1:] * 0.3
    rgb = np.clip(np.rint(lab_to_srgb(np.stack([dark, light]))), 0, 255).astype(int).tolist()
    return (rgb[0][0], rgb[0][1], rgb[0][2]), (rgb[1][0], rgb[1][1], rgb[1][2])


def card_frame(text: str, size: Size, style: Style | None) -> Frame:
    """``text`` centred on a card of ``size``, wrapped, in the largest type that fits
    (from an eighth of the height down to a twenty-fourth: ≥ 15 px at 360p)."""
    w, h = size
    background, ink = card_colours(style)
    image = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(image)
    words = text.split() or [" "]
    for px in range(h // 8, h // 24 - 1, -2):
        font = ImageFont.load_default(size=px)
        lines: list[str] = []
        for word in words:
            trial = f"{lines[-1]} {word}" if lines else word
            if lines and draw.textlength(trial, font=font) <= w * 0.86:
                lines[-1] = trial
            else:
                lines.append(word)
        block = "\n".join(lines)
        box = draw.multiline_textbbox((0, 0), block, font=font, spacing=px // 3, align="center")
        if box[2] - box[0] <= w * 0.9 and box[3] - box[1] <= h * 0.8:
            break
    x = (w - (box[2] - box[0])) / 2 - box[0]
    y = (h - (box[3] - box[1])) / 2 - box[1]
    draw.multiline_text((x, y), block, fill=ink, font=font, spacing=px // 3, align="center")
    return np.asarray(image, np.uint8)


__all__ = ["card_colours", "card_frame"]
