"""Per-peer bounded queues (pure): keyframe gate, late-join catch-up, drop to keyframe."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import mobile_bridge.film
from mobile_bridge.film.fanout import FanOut, PeerQueue, Published

FILM = Path(mobile_bridge.film.__file__).parent


def gop(fanout: FanOut[str], name: str, start: float, frames: int = 30) -> None:
    for i in range(frames):
        fanout.publish(f"{name}{i}", due=start + i / 30, keyframe=i == 0)


def drain(queue: PeerQueue[str]) -> list[str]:
    out = []
    while (item := queue.pop()) is not None:
        out.append(item)
    return out


def test_a_new_peer_starts_at_the_next_keyframe():
    fanout: FanOut[str] = FanOut(max_len=64, catch_up_s=0.1)
    gop(fanout, "a", 0.0, frames=10)  # the current keyframe is 0.3 s old
    queue = fanout.subscribe()
    fanout.publish("a10", due=10 / 30, keyframe=False)
    assert drain(queue) == []
    gop(fanout, "b", 1.0, frames=3)
    assert drain(queue) == ["b0", "b1", "b2"]


def test_a_new_peer_starts_from_a_recent_keyframe_at_once():
    fanout: FanOut[str] = FanOut(max_len=64, catch_up_s=0.1)
    gop(fanout, "a", 0.0, frames=3)  # keyframe 2/30 s before the newest packet
    woken = []
    queue = fanout.subscribe(lambda: woken.append(True))
    assert woken
    assert drain(queue) == ["a0", "a1", "a2"]


def test_a_peer_that_never_reads_stays_bounded_and_its_drops_are_counted():
    fanout: FanOut[str] = FanOut(max_len=64)
    gop(fanout, "k", 0.0)
    reader = fanout.subscribe()
    stalled = fanout.subscribe()
    for second in range(1, 10):
        gop(fanout, f"g{second}-", float(second))
        drain(reader)
        assert len(stalled) <= 64
    assert stalled.high_water <= 64
    assert stalled.dropped > 0 and stalled.resyncs > 0
    assert reader.dropped == 0
    assert fanout.dropped == stalled.dropped
    # when it reads again it starts on a keyframe, never mid-GOP
    gop(fanout, "z", 10.0, frames=2)
    assert drain(stalled)[0].endswith("0")


def test_a_peer_that_falls_behind_skips_to_the_next_keyframe():
    fanout: FanOut[str] = FanOut(max_len=40)
    queue = fanout.subscribe()
    gop(fanout, "a", 0.0)
    gop(fanout, "b", 1.0)  # 30 + 30 > 40: the queue empties and waits for c's keyframe
    assert queue.resyncs == 1
    gop(fanout, "c", 2.0, frames=2)
    assert drain(queue) == ["c0", "c1"]


def test_audio_every_packet_is_a_keyframe_so_the_gate_waits_one_packet():
    fanout: FanOut[str] = FanOut(max_len=4, catch_up_s=0.0)
    fanout.publish("x0", due=0.0, keyframe=True)
    queue = fanout.subscribe()
    assert drain(queue) == ["x0"]  # its own GOP, zero seconds old
    for i in range(1, 7):
        fanout.publish(f"x{i}", due=i * 0.06, keyframe=True)
    assert len(queue) <= 4
    assert drain(queue)[-1] == "x6"


def test_unsubscribe_and_close_wake_the_peer_and_keep_the_counts():
    fanout: FanOut[str] = FanOut(max_len=2)
    woken = []
    queue = fanout.subscribe(lambda: woken.append(True))
    gop(fanout, "a", 0.0, frames=5)
    dropped = queue.dropped
    fanout.unsubscribe(queue)
    assert queue.closed and woken and fanout.dropped == dropped
    fanout.close()
    late = fanout.subscribe()
    assert late.closed


def test_consumers_take_each_packet_in_one_delivery_from_their_first_keyframe_on():
    fanout: FanOut[str] = FanOut(max_len=64, catch_up_s=0.0)
    deliveries: list[tuple[str, list[object]]] = []
    fanout.deliver = lambda item, consumers: deliveries.append((item, list(consumers)))
    gop(fanout, "a", 0.0, frames=3)
    early, reader, late = fanout.subscribe(), fanout.subscribe(), fanout.subscribe()
    early.consumer, late.consumer = "early", "late"
    fanout.publish("a3", due=0.1, keyframe=False)
    assert deliveries == [] and drain(reader) == []  # all gated: waiting for a keyframe
    fanout.publish("b0", due=1.0, keyframe=True)
    # the keyframe opens the gates; the consumers get it in the peers' order, in one call
    assert deliveries == [("b0", ["early", "late"])]
    assert drain(reader) == ["b0"]  # a peer without a consumer still queues
    fanout.publish("b1", due=1.03, keyframe=False)
    assert deliveries[-1] == ("b1", ["early", "late"]) and drain(reader) == ["b1"]
    assert early.delivered == 2 and len(early) == 0 and not early.gated
    fanout.unsubscribe(late)
    fanout.publish("b2", due=1.06, keyframe=False)
    assert deliveries[-1] == ("b2", ["early"])
    assert late.consumer is None


def test_a_consumer_with_packets_queued_gets_them_through_its_queue_first():
    fanout: FanOut[str] = FanOut(max_len=64, catch_up_s=0.5)
    deliveries: list[tuple[str, list[object]]] = []
    fanout.deliver = lambda item, consumers: deliveries.append((item, list(consumers)))
    gop(fanout, "a", 0.0, frames=3)
    catching_up = fanout.subscribe()  # the current GOP is recent: it starts from it
    catching_up.consumer = "catching up"
    fanout.publish("a3", due=0.1, keyframe=False)
    assert deliveries == [] and drain(catching_up) == ["a0", "a1", "a2", "a3"]
    fanout.publish("a4", due=0.13, keyframe=False)
    assert deliveries == [("a4", ["catching up"])]


def test_a_consumer_without_a_deliver_is_a_bug_said_out_loud():
    fanout: FanOut[str] = FanOut(max_len=8)
    fanout.publish("k", due=0.0, keyframe=True)
    queue = fanout.subscribe()
    drain(queue)
    queue.consumer = object()
    with pytest.raises(RuntimeError, match="no deliver"):
        fanout.publish("p", due=0.03, keyframe=False)


def test_start_from_refuses_a_gop_that_does_not_start_on_a_keyframe():
    queue: PeerQueue[str] = PeerQueue(4)
    queue.start_from([Published("p", 0.0, keyframe=False)])
    assert queue.gated and len(queue) == 0
    with pytest.raises(ValueError, match="at least one"):
        PeerQueue(0)


@pytest.mark.parametrize("name", ["timeline.py", "fanout.py", "errors.py", "pacing.py", "rtp.py"])
def test_the_film_cores_stay_pure(name):
    banned = {"asyncio", "aiortc", "av", "socket", "time", "os", "logging", "server"}
    tree = ast.parse((FILM / name).read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    assert not roots & banned


def test_the_package_exports_what_it_names():
    for name in mobile_bridge.film.__all__:
        assert hasattr(mobile_bridge.film, name)
    assert len(mobile_bridge.film.__doc__.split()) > 10
