"""The expression classifier's input: a 48×48 grey face crop from the landmarks' box.

FER2013, on which the classifier was trained, holds 48×48 grey faces roughly framed from
brow to chin, centred, square. The crop reproduces that: the square around the face
mesh's bounding box (its longer side, plus ``margin`` on each side), grey by Rec. 601
luma, area-averaged down to 48×48 (averaging, not picking pixels, so a 200-pixel face
does not alias), scaled to 0–1 as the classifier's torchvision ``ToTensor`` did. Parts
of the square outside the frame are filled with the edge pixels.

The crop exists only for the duration of one classification; nothing keeps it.

Pure numpy: no I/O.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from affect.errors import TraceError

SIZE = 48
MARGIN = 0.1

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def square_box(points_px: npt.NDArray[np.floating], margin: float = MARGIN) -> tuple[int, int, int]:
    """``(x0, y0, side)`` of the square around the landmarks, ``margin`` of it each side.

    Raises:
        TraceError: no landmarks.
    """
    if points_px.ndim != 2 or points_px.shape[0] == 0 or points_px.shape[1] < 2:
        raise TraceError(f"landmarks of shape {points_px.shape} have no points")
    x_min, y_min = points_px[:, :2].min(axis=0)
    x_max, y_max = points_px[:, :2].max(axis=0)
    side = max(float(x_max - x_min), float(y_max - y_min), 1.0) * (1 + 2 * margin)
    cx, cy = (x_min + x_max) / 2, (y_min + y_max) / 2
    return round(cx - side / 2), round(cy - side / 2), max(1, round(side))


def grey_crop(
    frame: npt.NDArray[np.uint8],
    points_px: npt.NDArray[np.floating],
    margin: float = MARGIN,
    size: int = SIZE,
) -> npt.NDArray[np.float32]:
    """The ``size``×``size`` grey face crop, float32 in [0, 1].

    Raises:
        TraceError: the frame is not H×W×3 or there are no landmarks.
    """
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.size == 0:
        raise TraceError(f"frame shape {frame.shape} is not H×W×3")
    x0, y0, side = square_box(points_px, margin)
    height, width = frame.shape[:2]
    # Edges of each output pixel in source pixels, clipped into the frame (edge fill).
    edges = np.linspace(0, side, size + 1)
    cols = np.clip(np.round(x0 + edges).astype(np.int64), 0, width)
    rows = np.clip(np.round(y0 + edges).astype(np.int64), 0, height)
    cols_hi = np.maximum(cols[1:], np.minimum(cols[:-1] + 1, width))
    cols_lo = np.minimum(cols[:-1], cols_hi - 1)
    rows_hi = np.maximum(rows[1:], np.minimum(rows[:-1] + 1, height))
    rows_lo = np.minimum(rows[:-1], rows_hi - 1)
    r0, r1 = int(rows_lo.min()), int(rows_hi.max())
    c0, c1 = int(cols_lo.min()), int(cols_hi.max())
    grey = frame[r0:r1, c0:c1].astype(np.float32) @ _LUMA
    # Integral image: the sum over any box in four lookups, all 48×48 boxes at once.
    integral = np.zeros((grey.shape[0] + 1, grey.shape[1] + 1), dtype=np.float64)
    integral[1:, 1:] = grey.cumsum(axis=0).cumsum(axis=1)
    ra, rb = (rows_lo - r0)[:, None], (rows_hi - r0)[:, None]
    ca, cb = (cols_lo - c0)[None, :], (cols_hi - c0)[None, :]
    sums = integral[rb, cb] - integral[ra, cb] - integral[rb, ca] + integral[ra, ca]
    area = (rb - ra) * (cb - ca)
    crop: npt.NDArray[np.float32] = (sums / area / 255.0).astype(np.float32)
    return crop


__all__ = ["MARGIN", "SIZE", "grey_crop", "square_box"]
