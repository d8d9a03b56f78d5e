"""One reader's packets to many peers, each through a bounded queue (pure).

Theory of operation
-------------------
The reader publishes each packet once; every subscribed peer gets a reference to the
same object in its own `PeerQueue` (no copy, no re-encode). A queue is bounded
(``max_len`` packets, about two GOPs of video), because a phone on a bad network must
cost the server a bounded amount of memory (aiortc's `MediaRelay` queues are not).

Video can only be decoded from a keyframe on, so a queue has a **gate**:

* a new peer's queue is closed until the next keyframe — unless the current GOP's
  keyframe is very recent (``catch_up_s``), in which case the peer starts from it at
  once: a late joiner waits at most ``1 GOP - catch_up_s`` for a picture, and the burst it
  gets is at most ``catch_up_s`` of packets;
* a queue that is full when a packet arrives is emptied and closed again until the next
  keyframe: the peer skips ahead instead of falling further behind. The packets thrown
  away are counted (``dropped``, and ``resyncs`` for how often it happened).

For audio every packet is a keyframe, so the gate only ever waits one packet.

Nothing here knows asyncio: a queue calls ``on_ready`` when it goes from empty to
non-empty or is closed, and the track (the async shell) wakes its ``recv()`` from there.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Published(Generic[T]):
    """A packet as the fan-out holds it: the item, its due time and whether it is a keyframe."""

    item: T
    due: float
    keyframe: bool


class PeerQueue(Generic[T]):
    """One peer's bounded queue of packets, gated on keyframes."""

    def __init__(self, max_len: int, on_ready: Callable[[], None] | None = None) -> None:
        if max_len < 1:
            raise ValueError("a peer queue holds at least one packet")
        self.max_len = max_len
        self.on_ready = on_ready
        self._items: deque[T] = deque()
        self.gated = True  # waiting for a keyframe
        self.closed = False
        self.delivered = 0
        self.dropped = 0  # packets thrown away because the peer fell behind
        self.resyncs = 0  # times the queue was emptied for that
        self.high_water = 0

    def __len__(self) -> int:
        return len(self._items)

    def offer(self, packet: Published[T]) -> None:
        """Take one packet; drops to the next keyframe when the queue is full."""
        if self.closed:
            return
        if len(self._items) >= self.max_len:
            self.dropped += len(self._items)
            self.resyncs += 1
            self._items.clear()
            self.gated = True
        if self.gated:
            if not packet.keyframe:
                if self.resyncs:
                    self.dropped += 1
                return
            self.gated = False
        self._items.append(packet.item)
        self.high_water = max(self.high_water, len(self._items))
        if len(self._items) == 1 and self.on_ready is not None:
            self.on_ready()

    def start_from(self, gop: list[Published[T]]) -> None:
        """Open the gate on a GOP already published (the late-join catch-up)."""
        if self.closed or not gop or not gop[0].keyframe:
            return
        self.gated = False
        for packet in gop[-self.max_len :]:
            self._items.append(packet.item)
        self.high_water = max(self.high_water, len(self._items))
        if self.on_ready is not None:
            self.on_ready()

    def pop(self) -> T | None:
        """The oldest packet, or None when the queue is empty."""
        if not self._items:
            return None
        self.delivered += 1
        return self._items.popleft()

    def close(self) -> None:
        """No more packets; wakes the reader of the queue so it can end."""
        if self.closed:
            return
        self.closed = True
        self._items.clear()
        if self.on_ready is not None:
            self.on_ready()


class FanOut(Generic[T]):
    """The peers of one reader and kind.

    Args:
        max_len: each peer queue's bound, in packets.
        catch_up_s: a new peer starts from the current keyframe if it is at most this
            old (relative to the newest packet); otherwise it waits for the next one.
    """

    def __init__(self, max_len: int, catch_up_s: float = 0.25) -> None:
        self.max_len = max_len
        self.catch_up_s = catch_up_s
        self._peers: list[PeerQueue[T]] = []
        self._gop: list[Published[T]] = []  # since the last keyframe, for late joiners
        self.published = 0
        self.dropped_by_gone_peers = 0
        self.resyncs_by_gone_peers = 0
        self.closed = False

    @property
    def peers(self) -> tuple[PeerQueue[T], ...]:
        return tuple(self._peers)

    def subscribe(self, on_ready: Callable[[], None] | None = None) -> PeerQueue[T]:
        """A new peer queue; it opens at the current keyframe if recent, else the next."""
        queue: PeerQueue[T] = PeerQueue(self.max_len, on_ready)
        if self.closed:
            queue.close()
            return queue
        self._peers.append(queue)
        if self._gop and self._gop[-1].due - self._gop[0].due <= self.catch_up_s:
            queue.start_from(self._gop)
        return queue

    def unsubscribe(self, queue: PeerQueue[T]) -> None:
        """Forget a peer (its track stopped); its counters go into the totals."""
        if queue in self._peers:
            self._peers.remove(queue)
            self.dropped_by_gone_peers += queue.dropped
            self.resyncs_by_gone_peers += queue.resyncs
        queue.close()

    def publish(self, item: T, *, due: float, keyframe: bool) -> None:
        """Hand one packet to every peer."""
        if self.closed:
            return
        packet = Published(item, due, keyframe)
        if keyframe:
            self._gop.clear()
        if self._gop or keyframe:
            if len(self._gop) < self.max_len:
                self._gop.append(packet)
            else:
                self._gop.clear()  # a GOP longer than a queue: no catch-up from it
        self.published += 1
        for queue in self._peers:
            queue.offer(packet)

    def reset(self) -> None:
        """Forget the current GOP: the next peer waits for the next keyframe."""
        self._gop.clear()

    @property
    def dropped(self) -> int:
        """Packets thrown away for lagging peers, gone ones included."""
        return self.dropped_by_gone_peers + sum(q.dropped for q in self._peers)

    @property
    def resyncs(self) -> int:
        return self.resyncs_by_gone_peers + sum(q.resyncs for q in self._peers)

    def close(self) -> None:
        """Close every peer queue; later subscribers get a closed queue."""
        self.closed = True
        for queue in self._peers:
            queue.close()
        self._peers.clear()
        self._gop.clear()


__all__ = ["FanOut", "PeerQueue", "Published"]
