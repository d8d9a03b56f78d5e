"""The film on every node: phones on two nodes watch one phones-play room over WebRTC.

Each node plays the room's film to its own phones, cued by the owner's orders, so both
phones cut to the chosen branch at the same boundary on the room clock, with no gap,
repeat or frozen frame on either.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from dataclasses import dataclass, field

import httpx
import pytest
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from mobile_bridge import protocol as wire
from tests.mobile_bridge.film.clips import bar_x, colour_of, make_film
from tests.server.cluster.conftest import Cluster, Node
from tests.server.cluster.test_cluster import TIMEOUT, pages

STORY = """
kinoroom: 1
title: Two doors, two nodes
start: hall
scenes:
  hall:
    media: t/hall
    duration: 3
    choice:
      at: 0.2
      window: 1.2
      prompt: Which door?
      default: red
      options:
        - {id: red, label: The red door, goto: red}
        - {id: blue, label: The blue door, goto: blue}
  red: {media: t/red, duration: 3, ending: true}
  blue: {media: t/blue, duration: 3, ending: true}
"""


@dataclass
class Viewer:
    """An aiortc phone watching the film through one node."""

    pc: RTCPeerConnection = field(default_factory=RTCPeerConnection)
    frames: list[tuple[int, str, int]] = field(default_factory=list)  # (pts, colour, bar)
    film: dict[str, float] = field(default_factory=dict)  # the answer's clock mapping
    blue: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def watch(self, node: Node, code: str, token: str) -> None:
        video = self.pc.addTransceiver("video", direction="recvonly")
        video.setCodecPreferences(
            [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType == "video/H264"]
        )
        self.pc.addTransceiver("audio", direction="recvonly")

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "video":
                self.tasks.add(asyncio.create_task(self._consume(track)))

        await self.pc.setLocalDescription(await self.pc.createOffer())
        auth = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=node.url, trust_env=False, timeout=TIMEOUT) as http:
            offer = {"type": "offer", "sdp": self.pc.localDescription.sdp}
            answer = await http.post(f"/api/rooms/{code}/webrtc", json=offer, headers=auth)
            assert answer.status_code == 200, answer.text
            self.film = dict(answer.json()["film"])
            await self.pc.setRemoteDescription(
                RTCSessionDescription(answer.json()["sdp"], "answer")
            )

    async def epoch(self, node: Node, code: str, token: str) -> float:
        """The film's epoch (asked again when the answer came before the first scene)."""
        auth = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=node.url, trust_env=False, timeout=TIMEOUT) as http:
            while self.film.get("film_epoch") is None:
                polled = await http.get(f"/api/rooms/{code}/webrtc/film", headers=auth)
                self.film["film_epoch"] = polled.json()["film_epoch"]
                await asyncio.sleep(0.05)
        return float(self.film["film_epoch"])

    async def _consume(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                rgb = frame.to_ndarray(format="rgb24")  # type: ignore[union-attr]
                self.frames.append((int(frame.pts or 0), colour_of(rgb), bar_x(rgb)))
                if self.frames[-1][1] == "blue" and sum(f[1] == "blue" for f in self.frames) > 20:
                    self.blue.set()

    async def close(self) -> None:
        await self.pc.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


@pytest.mark.asyncio
async def test_phones_on_two_nodes_cut_to_the_chosen_branch_at_the_same_boundary(
    cluster: Cluster, tmp_path
):
    make_film(tmp_path / "media", {"t/hall": "green", "t/red": "red", "t/blue": "blue"},
              seconds=3.0)  # fmt: skip
    a, b = await asyncio.gather(*(cluster.node(n) for n in ("a", "b")))
    async with httpx.AsyncClient(base_url=a.url, trust_env=False, timeout=TIMEOUT) as http:
        story = await http.post("/api/stories", json={"source": STORY})
        room = (await http.post("/api/rooms", json={"story_id": story.json()["id"]})).json()
    code = room["code"]
    layout = [(a, "host", "host"), (a, "ada", "phone"), (b, "bo", "phone")]
    viewers = [Viewer(), Viewer()]
    async with pages(room, layout) as (host, ada, bo):
        try:
            for viewer, node, phone in zip(viewers, (a, b), (ada, bo), strict=True):
                await viewer.watch(node, code, phone.token)
            await host.host("start")
            door = await bo.next_vote_open(timeout=TIMEOUT)
            decided = asyncio.ensure_future(ada.wait_for(wire.DecisionMessage, timeout=TIMEOUT))
            assert isinstance(await bo.vote(door.choice, "blue", timeout=TIMEOUT), wire.VoteAck)
            assert (await decided).option == "blue"
            for viewer, node, phone in zip(viewers, (a, b), (ada, bo), strict=True):
                await viewer.epoch(node, code, phone.token)
            async with asyncio.timeout(TIMEOUT):
                await asyncio.gather(*(v.blue.wait() for v in viewers))
        finally:
            for viewer in viewers:
                await viewer.close()
    switches = []
    for viewer in viewers:
        pts = [f[0] for f in viewer.frames]
        assert {q - p for p, q in itertools.pairwise(pts)} == {3000}  # no gap, no repeat
        colours = [f[1] for f in viewer.frames]
        switch = colours.index("blue")
        assert set(colours[:switch]) == {"green"} and set(colours[switch:]) == {"blue"}
        bars = [f[2] for f in viewer.frames]
        assert all(p != q for p, q in itertools.pairwise(bars))  # nothing shown twice
        assert bars[switch] == 0  # the branch from its first frame
        assert viewer.frames[0] == (0, "green", 0)  # watching from the hall's first frame
        switches.append(pts[switch] - pts[0])
    # Both nodes' films run on the room clock from the hall's start, and cut at its end:
    # the same frame at the same time on every phone, whichever node it watches.
    assert viewers[0].film["film_epoch"] == pytest.approx(viewers[1].film["film_epoch"], abs=1e-6)
    assert switches == [3 * 90_000, 3 * 90_000]
