"""Typed identifiers shared by the story model, the screening and the policies."""

from __future__ import annotations

from typing import NewType

SceneId = NewType("SceneId", str)
ChoiceId = NewType("ChoiceId", str)
OptionId = NewType("OptionId", str)
DeviceId = NewType("DeviceId", str)

__all__ = ["ChoiceId", "DeviceId", "OptionId", "SceneId"]
