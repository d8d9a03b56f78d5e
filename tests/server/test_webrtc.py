"""WebRTC negotiation over the HTTP API: a phone's camera reaches the server's sinks."""

from __future__ import annotations

import asyncio

import av
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription

from mobile_bridge.join import join_room
from tests.mobile_bridge.cameras import Camera

pytestmark = pytest.mark.asyncio


async def offer(pc: RTCPeerConnection) -> dict[str, str]:
    await pc.setLocalDescription(await pc.createOffer())
    return {"type": "offer", "sdp": pc.localDescription.sdp}


async def test_a_phone_camera_reaches_the_server_sinks(live):
    room = await live.room()
    seat = await join_room(live.url, room["code"], "Ada", http=live.http)
    frames: list[tuple[str, av.VideoFrame]] = []
    arrived = asyncio.Event()

    def sink(device: str, frame: av.VideoFrame) -> None:
        frames.append((device, frame))
        arrived.set()

    live.services.camera_sinks.append(sink)
    phone = RTCPeerConnection()
    phone.addTransceiver(Camera(), direction="sendonly")
    try:
        response = await live.http.post(
            f"/api/rooms/{room['code']}/webrtc",
            json=await offer(phone),
            headers={"Authorization": f"Bearer {seat.token}"},
        )
        assert response.status_code == 200, response.text
        await phone.setRemoteDescription(RTCSessionDescription(response.json()["sdp"], "answer"))
        async with asyncio.timeout(10):
            await arrived.wait()
    finally:
        await phone.close()
    assert frames[0][0] == seat.device
    assert (frames[0][1].width, frames[0][1].height) == (320, 240)
    metrics = (await live.http.get("/metrics")).text
    assert "kinoroom_camera_frames_total" in metrics
    assert "kinoroom_peers 1.0" in metrics


async def test_negotiation_refuses_strangers_and_bad_sdp(live):
    room = await live.room()
    url = f"/api/rooms/{room['code']}/webrtc"
    body = {"type": "offer", "sdp": "v=0\r\nnot sdp at all"}
    anonymous = await live.http.post(url, json=body)
    assert (anonymous.status_code, anonymous.json()["error"]) == (401, "bad-token")
    auth = {"Authorization": f"Bearer {room['host_token']}"}
    garbage = await live.http.post(url, json=body, headers=auth)
    assert (garbage.status_code, garbage.json()["error"]) == (422, "bad-sdp")
    wrong_type = await live.http.post(url, json={"type": "answer", "sdp": "x"}, headers=auth)
    assert (wrong_type.status_code, wrong_type.json()["error"]) == (422, "bad-request")


async def test_a_camera_only_peer_sits_beside_the_film_peer_until_dropped(live):
    """The phone page's server path: `purpose: camera` adds a peer, DELETE drops it."""
    room = await live.room()
    seat = await join_room(live.url, room["code"], "Ada", http=live.http)
    auth = {"Authorization": f"Bearer {seat.token}"}
    url = f"/api/rooms/{room['code']}/webrtc"
    arrived = asyncio.Event()
    live.services.camera_sinks.append(lambda device, frame: arrived.set())
    film, camera = RTCPeerConnection(), RTCPeerConnection()
    film.addTransceiver("video", direction="recvonly")
    camera.addTransceiver(Camera(), direction="sendonly")
    try:
        first = await live.http.post(url, json=await offer(film), headers=auth)
        assert first.status_code == 200, first.text
        body = {**await offer(camera), "purpose": "camera"}
        second = await live.http.post(url, json=body, headers=auth)
        assert second.status_code == 200, second.text
        assert second.json()["film"] is None  # a camera peer carries no film
        await camera.setRemoteDescription(RTCSessionDescription(second.json()["sdp"], "answer"))
        async with asyncio.timeout(10):
            await arrived.wait()
        assert len(live.services.peers) == 2  # the camera did not replace the film's peer

        dropped = await live.http.delete(f"{url}/camera", headers=auth)
        assert dropped.status_code == 204
        assert len(live.services.peers) == 1
        assert "kinoroom_peers 1.0" in (await live.http.get("/metrics")).text
    finally:
        await film.close()
        await camera.close()

    host = {"Authorization": f"Bearer {room['host_token']}"}
    body = {"type": "offer", "sdp": "v=0", "purpose": "camera"}  # refused before it is read
    refused = await live.http.post(url, json=body, headers=host)
    assert (refused.status_code, refused.json()["error"]) == (403, "forbidden")


async def test_the_route_spells_the_film_clock_and_purposes_as_the_media_modules_do():
    # server.routes.webrtc spells them itself so that importing it loads no aiortc.
    from typing import get_args

    from mobile_bridge.film.timeline import VIDEO_CLOCK_RATE
    from mobile_bridge.peers import Purpose
    from server.routes import webrtc

    assert webrtc.VIDEO_CLOCK_RATE == VIDEO_CLOCK_RATE
    assert get_args(webrtc.Purpose) == get_args(Purpose)
