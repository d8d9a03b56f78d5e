"""How late each room's pages show the film, from their `playout` reports (pure).

A page that plays the film sends, about every 2 s, the median of its recent playout
offsets: when a frame was shown minus when it was due on the room clock. Per room this
keeps each page's latest report and a bounded window of reports per role, and sums them
up as the host's report and the benchmark need: p50/p95 of the offsets per role, and the
**spread**: max − min of the latest offsets of the pages of a role (and of all pages)
that reported in the last ``fresh_s`` seconds, i.e. how far apart two pages show the
same frame. Times are room-clock seconds passed in; nothing here reads a clock.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass

ROLES = ("phone", "screen")


@dataclass(frozen=True, slots=True)
class Report:
    device: str
    role: str
    offset_s: float
    frames: int
    at: float  # room clock


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) by linear interpolation; ``values`` must not be empty."""
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


class RoomPlayout:
    """One room's playout reports.

    Args:
        window: reports kept per role for the percentiles.
        fresh_s: a page whose last report is older does not count in the spread.
    """

    def __init__(self, window: int = 512, fresh_s: float = 10.0) -> None:
        self._fresh_s = fresh_s
        self._latest: dict[str, Report] = {}
        self._window: dict[str, deque[float]] = {role: deque(maxlen=window) for role in ROLES}
        self.reports = 0

    def record(self, report: Report) -> float | None:
        """Keep ``report``; returns the spread of its role now (None with one page)."""
        if report.role not in ROLES:
            raise ValueError(f"role {report.role!r} does not play the film")
        self._latest[report.device] = report
        self._window[report.role].append(report.offset_s)
        self.reports += 1
        return self._spread(report.role, report.at)

    def latest(self) -> dict[str, Report]:
        """Each page's last report, by device."""
        return dict(self._latest)

    def _fresh(self, role: str | None, now: float) -> list[float]:
        return [
            r.offset_s
            for r in self._latest.values()
            if (role is None or r.role == role) and now - r.at <= self._fresh_s
        ]

    def _spread(self, role: str | None, now: float) -> float | None:
        offsets = self._fresh(role, now)
        return max(offsets) - min(offsets) if len(offsets) > 1 else None

    def summary(self, now: float) -> dict[str, object]:
        """JSON-ready: per role p50/p95 (ms) over the window, pages and spread now (ms)."""
        out: dict[str, object] = {}
        for role in ROLES:
            window = list(self._window[role])
            if not window:
                continue
            spread = self._spread(role, now)
            out[role] = {
                "pages": len(self._fresh(role, now)),
                "reports": len(window),
                "p50_ms": round(percentile(window, 0.5) * 1000, 1),
                "p95_ms": round(percentile(window, 0.95) * 1000, 1),
                "spread_ms": None if spread is None else round(spread * 1000, 1),
            }
        spread = self._spread(None, now)
        out["spread_ms"] = None if spread is None else round(spread * 1000, 1)
        return out


class Playout:
    """Every room's `RoomPlayout`, by room code; the oldest room is forgotten past ``rooms``."""

    def __init__(self, rooms: int = 1000) -> None:
        self._rooms: OrderedDict[str, RoomPlayout] = OrderedDict()
        self._limit = rooms

    def room(self, code: str) -> RoomPlayout:
        found = self._rooms.get(code)
        if found is None:
            found = self._rooms[code] = RoomPlayout()
            while len(self._rooms) > self._limit:
                self._rooms.popitem(last=False)
        self._rooms.move_to_end(code)
        return found

    def summary(self, code: str, now: float) -> dict[str, object] | None:
        """The room's summary, or None when no page of it has reported."""
        found = self._rooms.get(code)
        return found.summary(now) if found is not None else None


__all__ = ["ROLES", "Playout", "Report", "RoomPlayout", "percentile"]
