"""The recommender's shell: reads the database and the media folder, calls the pure parts.

The library is every stored story, one per title (the newest version: the studio saves a
new story per approved draft, and they are one film to a group); a group's screenings
of an older version count for the newest. Profiles are built in a worker thread (an ink
story runs its runtime) and kept until the media folder's measures change.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from narrative.sources import load_source
from narrative.story import Story
from server.persistence import Store, StoryRecord
from server.persistence.groups import Groups
from server.recommend.film import FilmProfile
from server.recommend.history import history_of
from server.recommend.library import profile_of
from server.recommend.measure import ClipMeasure
from server.recommend.measures import MEASURES_NAME, load_measures
from server.recommend.picks import COUNT, WatchNext, watch_next


class Recommender:
    def __init__(self, store: Store, groups: Groups, media_dir: Path) -> None:
        self.store = store
        self.groups = groups
        self.media_dir = media_dir
        self._profiles: dict[tuple[str, float], FilmProfile] = {}
        self._stories: dict[str, Story | None] = {}

    async def library(self) -> tuple[list[FilmProfile], dict[int, int]]:
        """The library's profiles, and each stored story id → its library story id."""
        stories = await self.store.stories()
        newest: dict[str, StoryRecord] = {}
        for record in stories:  # ascending ids: the last of a title is its newest version
            newest[record.title] = record
        alias = {r.id: newest[r.title].id for r in stories}
        stamp = self._measures_stamp()
        measures: dict[str, ClipMeasure] | None = None
        profiles = []
        for record in newest.values():
            key = (record.digest, stamp)
            if key not in self._profiles:
                if measures is None:
                    measures = await asyncio.to_thread(load_measures, self.media_dir)
                self._profiles[key] = await asyncio.to_thread(
                    profile_of, record.id, record.digest, record.source, measures
                )
            profiles.append(self._profiles[key])
        return sorted(profiles, key=lambda p: p.story_id), alias

    async def watch_next(
        self, group_id: str, *, count: int = COUNT, explore: bool = True, seed: int = 0
    ) -> WatchNext:
        """The picks for one group (it must exist: the caller checks)."""
        library, alias = await self.library()
        await self._load_graphs()
        screenings = [
            dataclasses.replace(s, story_id=alias[s.story_id])
            for s in await self.groups.history()
            if s.story_id in alias
        ]
        profiles = {p.story_id: p for p in library}
        stories = {p.story_id: self._stories.get(p.digest) for p in library}
        history = history_of(screenings, profiles, stories)
        return watch_next(group_id, library, history, count=count, explore=explore, seed=seed)

    async def _load_graphs(self) -> None:
        """Parse the library's story files (for completion: which scenes lead to an ending)."""
        for record in await self.store.stories():
            if record.digest not in self._stories:
                source = await asyncio.to_thread(load_source, record.source, record.title)
                self._stories[record.digest] = source if isinstance(source, Story) else None

    def _measures_stamp(self) -> float:
        try:
            return (self.media_dir / MEASURES_NAME).stat().st_mtime
        except OSError:
            return 0.0


__all__ = ["Recommender"]
