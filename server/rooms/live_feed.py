"""The messages that only matter as their latest value: the live tally, presence, the mood.

Part of the room core (pure: time is an argument, room-clock seconds). The core marks
what changed (`changed`); `flush` sends at most one of each kind per ``interval_s``:

- the **tally** to the pages that may see it (screens and hosts; phones too when the host
  shows tallies), from the screening's own running count (`Screening.live_tally`);
- **presence** to screens and hosts at once, to phones at most every
  ``phones / PHONE_PRESENCE_PER_S`` seconds: a count every quarter second to every one of
  10,000 phones would be 40,000 messages a second, more than the room's votes, while a
  phone only shows it as a number;
- the **mood** meter to screens and hosts, when it changed at the two decimals it is shown
  with, or when a page arrived that may not have it yet; recomputed only when a reading
  or a page changed, or every ``MOOD_REFRESH_S`` while cameras count (a sample goes stale
  without any event). Phones are not sent the room's mood: it is the screen's.
"""

from __future__ import annotations

from dataclasses import dataclass

from mobile_bridge.protocol import MoodMessage, Presence, Tally, dump
from narrative.mood import NEUTRAL, Mood
from narrative.screening import Screening
from server.rooms.audience import EVERYONE, PHONES, SCREENS, Item, Send

PHONE_PRESENCE_PER_S = 2_000  # presence messages a room sends its phones per second, at most
MOOD_REFRESH_S = 1.0  # recompute a counted mood this often without samples: staleness


@dataclass(frozen=True, slots=True)
class Counts:
    """The pages present: phones are devices (one however many tabs), the rest sockets."""

    phones: int
    screens: int
    hosts: int


class LiveFeed:
    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._tally = self._presence = self._mood_dirty = False
        self._last_flush = self._last_phone_presence = float("-inf")
        self._phone_presence: Item | None = None  # presence the phones have not had yet
        self._mood_at = float("-inf")  # when the mood was last computed
        self._mood = NEUTRAL
        self._mood_item: Item | None = None  # a mood message not yet sent
        self._mood_sent = _mood_text(NEUTRAL)  # no camera yet: screens show no meter

    def changed(self, *, tally: bool = False, presence: bool = False, mood: bool = False) -> None:
        """Mark what may have changed since the last flush."""
        self._tally |= tally
        self._presence |= presence
        self._mood_dirty |= mood

    def flush(
        self, now: float, screening: Screening, counts: Counts, *, show_tally: bool
    ) -> list[Send]:
        """What is due now: nothing within ``interval_s`` of the last flush."""
        if now - self._last_flush < self.interval_s:
            return []
        mood = self._current_mood(now, screening)
        if not (
            self._tally
            or self._presence
            or self._phone_presence is not None
            or self._mood_item is not None
        ):
            return []
        self._last_flush = now
        sends: list[Send] = []
        if self._tally and (live := screening.live_tally(now)) is not None:
            tally = Tally(
                choice=live.choice,
                scores={str(option): score for option, score in live.scores},
                voted=live.turnout.voted,
                present=live.turnout.present,
            )
            sends.append(Send(EVERYONE if show_tally else SCREENS, Item("tally", dump(tally))))
        self._tally = False
        if self._presence:
            presence = Presence(
                phones=counts.phones, screens=counts.screens, hosts=counts.hosts,
                cameras=mood.viewers,
            )  # fmt: skip
            self._phone_presence = Item("presence", dump(presence))
            sends.append(Send(SCREENS, self._phone_presence))
            self._presence = False
        phones_every_s = counts.phones / PHONE_PRESENCE_PER_S
        if self._phone_presence is not None and now - self._last_phone_presence >= phones_every_s:
            sends.append(Send(PHONES, self._phone_presence))
            self._phone_presence = None
            self._last_phone_presence = now
        if self._mood_item is not None:
            sends.append(Send(SCREENS, self._mood_item))
            self._mood_item = None
        return sends

    def _current_mood(self, now: float, screening: Screening) -> Mood:
        """The room's mood, recomputed only when it may have changed; a changed reading
        (or a page that may not have it yet) leaves its message in ``_mood_item``."""
        due = self._mood.viewers > 0 and now - self._mood_at >= MOOD_REFRESH_S
        if not (self._mood_dirty or self._presence or due):
            return self._mood
        self._mood_dirty = False
        self._mood_at, self._mood = now, screening.mood(now)
        text = _mood_text(self._mood)
        if text != self._mood_sent or (self._presence and self._mood.viewers):  # new screens
            self._mood_sent = text
            self._mood_item = Item("mood", text)
        return self._mood


def _mood_text(mood: Mood) -> str:
    message = MoodMessage(
        valence=round(mood.valence, 2),
        arousal=round(mood.arousal, 2),
        engagement=round(mood.engagement, 2),
        viewers=mood.viewers,
        participation=round(mood.participation, 2),
    )
    return dump(message)


__all__ = ["MOOD_REFRESH_S", "PHONE_PRESENCE_PER_S", "Counts", "LiveFeed"]
