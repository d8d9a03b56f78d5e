"""Audience affect: per-viewer expression, valence/arousal and camera heart rate from
camera frames, per-viewer baselines, group aggregation, and the affect message a phone
sends when it analyses its own camera.

May import numpy, mediapipe, onnxruntime (torch for model export only); never ``server``.
The room-level mood arithmetic the story core needs lives in ``narrative.mood``.
Nothing is here yet: the audience affect issue fills it.
"""

__all__: list[str] = []
