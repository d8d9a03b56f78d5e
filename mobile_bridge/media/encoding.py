"""Made-up clips encoded straight into stream renditions: the demo film and generated scenes.

The other way into the media folder than `mobile_bridge.media.ingest`: pictures and sound
a program made (the demo film's, a generated fill-in's) are encoded once into every
rendition, with the same writer and profile as ingested clips, and recorded like them.
Each caller names its own x264 preset (part of a rendition's fingerprint).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from mobile_bridge.media.ingest import finish_rendition
from mobile_bridge.media.manifest import RenditionFile
from mobile_bridge.media.renditions import AUDIO_RATE, Rendition, RenditionWriter, gop_frames


def _audio_frame(sound: npt.NDArray[np.float32], start: int, stop: int) -> av.AudioFrame:
    frame = av.AudioFrame.from_ndarray(
        np.ascontiguousarray(sound[:, start:stop]), format="fltp", layout="stereo"
    )
    frame.sample_rate = AUDIO_RATE
    return frame


def encode_renditions(
    media_dir: Path,
    media_id: str,
    renditions: Sequence[Rendition],
    fps: Fraction,
    pictures: Iterable[Sequence[av.VideoFrame]],
    sound: npt.NDArray[np.float32],
    *,
    preset: str,
    progress: Callable[[float], None] | None = None,
) -> dict[str, RenditionFile]:
    """Encode a made-up clip into every rendition and put the files in place.

    The generated-film half of ingest: each picture from ``pictures`` (one frame per
    rendition, in ``renditions`` order, already at that rendition's size) goes to that
    rendition's `RenditionWriter`, the sound follows in step so the TS interleaves them,
    and each finished ``.part`` file is indexed, hashed and moved to
    ``<media_dir>/<media_id>/<rendition>.ts`` (`finish_rendition`). The demo film and
    the generated fill-in scenes (`genmodels.clips`) both write their clips with it.

    Args:
        media_dir: the media folder.
        media_id: the clip's id (its folder under ``media_dir``).
        renditions: which renditions to write.
        fps: the fixed frame rate of the pictures.
        pictures: per output frame, a picture per rendition.
        sound: ``(2, samples)`` float32 at 48 kHz; sound past the last picture is dropped.
        preset: the x264 preset (part of each rendition's manifest ``profile``).
        progress: called with seconds of clip done, once per second of frames.

    Returns:
        The manifest entry of every rendition written, by rendition name.
    """
    folder = media_dir / media_id
    folder.mkdir(parents=True, exist_ok=True)
    parts = [folder / f"{r.name}.ts.part" for r in renditions]
    writers = [
        RenditionWriter(part, r, fps, audio=True, preset=preset)
        for r, part in zip(renditions, parts, strict=True)
    ]
    gop = gop_frames(fps)
    try:
        sent = 0
        for n, frames in enumerate(pictures):
            for image, writer in zip(frames, writers, strict=True):
                writer.write_video(image)
            # Keep the sound in step with the picture, so the TS interleaves them.
            due = min(sound.shape[1], math.ceil((n + 1) / fps * AUDIO_RATE))
            if due > sent:
                for writer in writers:
                    writer.write_audio(_audio_frame(sound, sent, due))
                sent = due
            if progress is not None and n % gop == 0:
                progress(n / float(fps))
        for writer in writers:
            writer.close()
        done: dict[str, RenditionFile] = {}
        for rendition, part in zip(renditions, parts, strict=True):
            entry = finish_rendition(
                media_dir, media_id, rendition, part, rendition.fingerprint(preset)
            )
            done[rendition.name] = entry.model_copy(update={"fps": float(fps)})
        return done
    except BaseException:
        for writer in writers:
            writer.abort()
        raise
    finally:
        for part in parts:
            part.unlink(missing_ok=True)


__all__ = ["encode_renditions"]
