"""A synthetic camera for WebRTC tests."""

from __future__ import annotations

import av
import numpy as np
from aiortc import VideoStreamTrack


class Camera(VideoStreamTrack):
    """A 320×240 camera whose picture brightens frame by frame."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        self.count += 1
        picture = np.full((240, 320, 3), self.count % 256, dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
        frame.pts, frame.time_base = pts, time_base
        return frame
