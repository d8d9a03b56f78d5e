"""The Room's outbound half: who a send reaches, and the coalesced live messages.

A base class of `Room` (as `ScreeningViews` is of `Screening`), kept apart so that
`server.rooms.room` holds the loop and what the screening's commands mean, and this
module what leaves the room: `_deliver` puts each send into the outboxes of the pages
its target names, and `_flush_live` sends the messages that only matter as their latest
value (tally, presence, mood), at most one of each per ``tally_interval_s``.

The mood meter (`mobile_bridge.protocol.MoodMessage`) goes to screens and hosts only
when it changed at the two decimals it is shown with, and is recomputed only when a
sample arrived, a phone came or went, or a second passed with cameras counted (a sample
goes stale without any event). Phones are not sent the room's mood: it is the screen's.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from mobile_bridge.protocol import MoodMessage, Presence, Tally, dump
from narrative.ids import DeviceId
from narrative.mood import NEUTRAL, Mood
from narrative.screening import Screening
from server.metrics import Metrics
from server.rooms.clock import RoomClock
from server.rooms.outbox import Item
from server.rooms.page import Page
from server.rooms.views import live_scores
from server.settings import Settings

PHONE_PRESENCE_PER_S = 2_000  # presence messages a room sends its phones per second, at most
MOOD_REFRESH_S = 1.0  # recompute a counted mood this often without samples: staleness

Target = Page | DeviceId | str  # a page, a device's pages, "all", "watchers", "phones", "screens"
Send = tuple[Target, Item]


class RoomOutbound:
    screening: Screening
    clock: RoomClock
    pages: set[Page]
    devices: dict[DeviceId, set[Page]]
    show_tally: bool
    _metrics: Metrics
    _settings: Settings
    _tally_dirty: bool
    _presence_dirty: bool
    _mood_dirty: bool
    _last_flush: float
    _phone_presence: Item | None  # presence the phones have not had yet
    _last_phone_presence: float
    _mood: tuple[float, Mood, Item | None]  # (computed at, mood, message not yet sent)
    _mood_sent: str  # the last mood message's text (unchanged: not sent again)

    def _init_outbound(self) -> None:
        self._tally_dirty = self._presence_dirty = self._mood_dirty = False
        self._last_flush = self._last_phone_presence = float("-inf")
        self._phone_presence = None
        self._mood = (float("-inf"), NEUTRAL, None)
        self._mood_sent = _mood_text(NEUTRAL)  # no camera yet: screens show no meter

    def _targets(self, target: Target) -> Iterable[Page]:
        if isinstance(target, Page):
            return (target,) if target in self.pages else ()
        if target == "all":
            return tuple(self.pages)
        if target == "watchers":
            return tuple(p for p in self.pages if p.role != "phone" or self.show_tally)
        if target == "phones":
            return tuple(p for p in self.pages if p.role == "phone")
        if target == "screens":
            return tuple(p for p in self.pages if p.role != "phone")
        return tuple(self.devices.get(DeviceId(target), ()))

    def _deliver(self, sends: Iterable[Send]) -> None:
        for target, item in sends:
            for page in self._targets(target):
                if not page.outbox.put(item) and page.outbox.overflowed:
                    self._metrics.send_drops.inc()

    def _flush_live(self) -> None:
        """Tallies, presence and mood, coalesced to at most one each per ``tally_interval_s``.

        Presence goes to screens and hosts at once, to phones at most every
        ``phones / PHONE_PRESENCE_PER_S`` seconds: a count every quarter second to every
        one of 10,000 phones would be 40,000 messages a second, more than the room's
        votes, while a phone only shows it as a number.
        """
        now = time.monotonic()
        if now - self._last_flush < self._settings.tally_interval_s:
            return
        mood = self._current_mood(now)
        if not (
            self._tally_dirty
            or self._presence_dirty
            or self._phone_presence is not None
            or self._mood[2] is not None
        ):
            return
        self._last_flush = now
        live: list[Send] = []
        vote = self.screening.open_vote
        if self._tally_dirty and vote is not None and self.screening.vote is not None:
            scores, voted = live_scores(self.screening)
            tally = Tally(
                choice=vote.choice, scores=scores, voted=voted, present=self.screening.present
            )
            live.append(("watchers", Item("tally", dump(tally))))
        self._tally_dirty = False
        if self._presence_dirty:
            roles = [p.role for p in self.pages]
            presence = Presence(
                phones=len(self.devices),
                screens=roles.count("screen"),
                hosts=roles.count("host"),
                cameras=mood.viewers,
            )
            self._phone_presence = Item("presence", dump(presence))
            live.append(("screens", self._phone_presence))
            self._presence_dirty = False
        phones_every_s = len(self.devices) / PHONE_PRESENCE_PER_S
        if self._phone_presence is not None and now - self._last_phone_presence >= phones_every_s:
            live.append(("phones", self._phone_presence))
            self._phone_presence = None
            self._last_phone_presence = now
        if (item := self._mood[2]) is not None:
            live.append(("screens", item))
            self._mood = (self._mood[0], mood, None)
        self._deliver(live)

    def _current_mood(self, now: float) -> Mood:
        """The room's mood, recomputed only when it may have changed; a changed reading
        (or a page that may not have it yet) leaves its message in ``_mood[2]``."""
        at, mood, pending = self._mood
        due = mood.viewers > 0 and now - at >= MOOD_REFRESH_S
        if not (self._mood_dirty or self._presence_dirty or due):
            return mood
        self._mood_dirty = False
        mood = self.screening.mood(self.clock.now())
        text = _mood_text(mood)
        if text != self._mood_sent or (self._presence_dirty and mood.viewers):  # new screens
            self._mood_sent = text
            pending = Item("mood", text)
        self._mood = (now, mood, pending)
        return mood


def _mood_text(mood: Mood) -> str:
    message = MoodMessage(
        valence=round(mood.valence, 2),
        arousal=round(mood.arousal, 2),
        engagement=round(mood.engagement, 2),
        viewers=mood.viewers,
        participation=round(mood.participation, 2),
    )
    return dump(message)


__all__ = ["PHONE_PRESENCE_PER_S", "RoomOutbound", "Send", "Target"]
