"""Screens and hosts get the room's mood: the trimmed room mood, never phones."""

from __future__ import annotations

import asyncio
import os

import pytest

from mobile_bridge.client import PhoneClient
from mobile_bridge.join import join_room
from mobile_bridge.protocol import MoodMessage

TIMEOUT = 5.0 * float(os.environ.get("KINOROOM_TEST_TIMEOUT_SCALE", "1"))


@pytest.mark.asyncio
async def test_the_mood_meter_follows_the_trimmed_room(live):
    room = await live.room()
    code = room["code"]
    seats = [await join_room(live.url, code, f"p{i}", http=live.http) for i in range(5)]
    screen_seat = await live.http.post(
        f"/api/rooms/{code}/join", json={"nickname": "wall", "role": "screen"}
    )
    phones = [PhoneClient(live.url, code, s.token, timeout_s=TIMEOUT) for s in seats]
    screen = PhoneClient(live.url, code, screen_seat.json()["token"], "screen", timeout_s=TIMEOUT)
    moods: list[MoodMessage] = []
    try:
        await asyncio.gather(screen.connect(), *(p.connect() for p in phones))
        first = asyncio.ensure_future(screen.wait_for(MoodMessage, timeout=TIMEOUT))
        await asyncio.sleep(0)
        for phone, valence in zip(phones, (0.4, 0.4, 0.4, 0.4, -1.0), strict=True):
            await phone.affect(valence, 0.2, 0.8)
        moods.append(await first)
        while moods[-1].viewers < 5:
            moods.append(await screen.wait_for(MoodMessage, timeout=TIMEOUT))
        last = moods[-1]
        assert (last.valence, last.arousal, last.engagement) == (0.4, 0.2, 0.8)  # −1 trimmed
        assert (last.viewers, last.participation) == (5, 1.0)
        # A change of the room's mood reaches the screen.
        changed = asyncio.ensure_future(screen.wait_for(MoodMessage, timeout=TIMEOUT))
        await asyncio.sleep(0)
        for phone in phones[:3]:
            await phone.affect(-0.6, 0.2, 0.8)
        after = [await changed]
        while after[-1].valence != -0.6:
            after.append(await screen.wait_for(MoodMessage, timeout=TIMEOUT))
        assert after[-1].viewers == 5
        assert all(p.mood is None for p in phones)  # the room's mood is the screen's
    finally:
        await asyncio.gather(screen.close(), *(p.close() for p in phones))
