"""The film through a live server: a phone negotiates over HTTP, watches, votes, and the
picture switches to the branch the room chose at the scene boundary."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from mobile_bridge.client import PhoneClient
from mobile_bridge.join import join_room
from mobile_bridge.protocol import DecisionMessage, VoteOpen
from tests.mobile_bridge.film.clips import colour_of, make_film
from tests.server.conftest import running, settings_for

STORY = """
kinoroom: 1
title: Two doors
start: hall
scenes:
  hall:
    media: t/hall
    duration: 3
    choice:
      at: 0.2
      window: 1.0
      prompt: Which door?
      default: blue  # the phone's vote too: the film test does not race the window
      options:
        - {id: red, label: The red door, goto: red}
        - {id: blue, label: The blue door, goto: blue}
  red: {media: t/red, duration: 3, ending: true}
  blue: {media: t/blue, duration: 3, ending: true}
"""


@pytest.mark.asyncio
async def test_a_phone_watches_the_room_film_switch_to_the_chosen_branch(tmp_path: Path):
    media = tmp_path / "media"
    make_film(media, {"t/hall": "green", "t/red": "red", "t/blue": "blue"}, seconds=3.0)
    async with running(settings_for(tmp_path, media_dir=media)) as live:
        story_id = await live.story(STORY)
        created = await live.http.post("/api/rooms", json={"story_id": story_id})
        room = created.json()
        code = room["code"]
        seat = await join_room(live.url, code, "Ada", http=live.http)
        colours: list[str] = []
        audio_frames = 0
        seen_blue = asyncio.Event()
        pc = RTCPeerConnection()
        video = pc.addTransceiver("video", direction="recvonly")
        video.setCodecPreferences(
            [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType == "video/H264"]
        )
        pc.addTransceiver("audio", direction="recvonly")
        tasks: set[asyncio.Task[None]] = set()

        async def consume(track: MediaStreamTrack) -> None:
            nonlocal audio_frames
            with contextlib.suppress(MediaStreamError):
                while True:
                    frame = await track.recv()
                    if track.kind == "audio":
                        audio_frames += 1
                        continue
                    colours.append(colour_of(frame.to_ndarray(format="rgb24")))  # type: ignore[union-attr]
                    if colours[-1] == "blue":
                        seen_blue.set()

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            tasks.add(asyncio.create_task(consume(track)))

        async with (
            PhoneClient(live.url, code, room["host_token"], "host") as host,
            PhoneClient(live.url, code, seat.token) as phone,
        ):
            await pc.setLocalDescription(await pc.createOffer())
            answer = await live.http.post(
                f"/api/rooms/{code}/webrtc",
                json={"type": "offer", "sdp": pc.localDescription.sdp},
                headers={"Authorization": f"Bearer {seat.token}"},
            )
            assert answer.status_code == 200, answer.text
            assert "H264/90000" in answer.json()["sdp"]
            await pc.setRemoteDescription(RTCSessionDescription(answer.json()["sdp"], "answer"))
            opened = asyncio.ensure_future(phone.wait_for(VoteOpen, timeout=10))
            decided = asyncio.ensure_future(phone.wait_for(DecisionMessage, timeout=10))
            await host.host("start")
            await phone.vote((await opened).choice, "blue")
            assert (await decided).option == "blue"
            async with asyncio.timeout(15):
                await seen_blue.wait()
        await pc.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    # The hall played, then the chosen branch: never the other door, never back.
    switch = colours.index("blue")
    assert set(colours[:switch]) == {"green"}
    assert "red" not in colours
    assert switch > 30  # a second or more of the hall came first
    assert audio_frames > 0
