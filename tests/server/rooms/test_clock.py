"""The room clock."""

from __future__ import annotations

from server.rooms.clock import RoomClock


def test_room_clock_counts_from_the_epoch_and_ignores_wall_clock_steps():
    wall, mono = [1_000.0], [50.0]
    clock = RoomClock(epoch=990.0, wall=lambda: wall[0], monotonic=lambda: mono[0])
    assert clock.now() == 10.0
    mono[0] += 2.5
    wall[0] -= 3600  # an NTP step backwards while the room runs
    assert clock.now() == 12.5


def test_a_restarted_clock_continues_where_the_film_is():
    clock = RoomClock(epoch=1_000.0, wall=lambda: 1_090.0, monotonic=lambda: 7.0)
    assert clock.now() == 90.0  # 90 s after the room began, whatever the process uptime
