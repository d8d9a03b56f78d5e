"""WebRTC negotiation: a page posts its offer, the server answers (film out, camera in).

The page authenticates with the token it says in ``hello``. In a ``phones-play`` room
phones and screens receive the film; in a ``big-screen`` room only screens do and phones
are controllers. A phone may send its camera in either mode, for server-side analysis:
in the film's offer, or (what the phone page does) on a camera-only peer of its own,
offered with ``"purpose": "camera"`` and dropped with ``DELETE /api/rooms/{code}/webrtc/camera``
when its viewer turns the camera off; the film's peer is left alone either way.

The answer of a page that receives the film carries the **film clock**: the video clock
rate, the RTP timestamp origin its senders use (`mobile_bridge.rtp_origin`) and the
film's epoch (room-clock time of timestamp 0). With it a page maps a frame's RTP
timestamp to the room-clock time it was due and measures its playout offset
(``due = film_epoch + ((rtp - rtp_origin) mod 2**32) / clock_rate``). The epoch is set
when the first scene is scheduled; before that it is null and the page asks
``GET /api/rooms/{code}/webrtc/film`` again later. ``GET /api/webrtc/config`` gives the
ICE servers a page should use: the configured STUN/TURN, none by default.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from server.deps import PageDep, RoomDep, ServicesDep
from server.errors import ApiError

router = APIRouter(tags=["webrtc"])

# `mobile_bridge.film.timeline.VIDEO_CLOCK_RATE` and `mobile_bridge.peers.Purpose`, spelled
# here: importing those modules loads aiortc and PyAV, which `Services.media` does in a
# thread after start-up (a test checks they agree).
VIDEO_CLOCK_RATE = 90_000
Purpose = Literal["film", "camera"]


class Offer(BaseModel):
    type: Literal["offer"]
    sdp: str = Field(min_length=1, max_length=64_000)
    purpose: Purpose = Field(
        "film", description="film: the page's main peer; camera: a phone's camera-only peer"
    )


class FilmClock(BaseModel):
    """How the page maps a video frame's RTP timestamp to when it was due (room clock)."""

    clock_rate: int = VIDEO_CLOCK_RATE
    rtp_origin: int | None = Field(None, description="this peer's origin; absent when polled")
    film_epoch: float | None = Field(description="room clock of timestamp 0; null: not yet")


class Answer(BaseModel):
    type: Literal["answer"] = "answer"
    sdp: str
    film: FilmClock | None = Field(None, description="null: this page gets no film")


class IceServer(BaseModel):
    urls: list[str]
    username: str | None = None
    credential: str | None = None


class IceConfig(BaseModel):
    ice_servers: list[IceServer]


@router.get("/api/webrtc/config")
async def ice_config(svc: ServicesDep) -> IceConfig:
    """The ICE servers pages use: the configured STUN and TURN, none by default.

    TURN credentials go to any page that asks, as every page needs them: use a TURN
    server with short-lived credentials where that matters.
    """
    s = svc.settings
    servers = [IceServer(urls=s.stun_urls)] if s.stun_urls else []
    if s.turn_urls:
        password = s.turn_password.get_secret_value() if s.turn_password else None
        servers.append(IceServer(urls=s.turn_urls, username=s.turn_username, credential=password))
    return IceConfig(ice_servers=servers)


@router.get("/api/rooms/{code}/webrtc/film")
async def film_clock(room: RoomDep, page: PageDep) -> FilmClock:
    """The film's epoch, for a page whose answer came before the first scene."""
    return FilmClock(film_epoch=room.film_epoch)


@router.post("/api/rooms/{code}/webrtc")
async def negotiate(room: RoomDep, offer: Offer, claims: PageDep, svc: ServicesDep) -> Answer:
    """Answer a page's offer; 422 ``codec-unsupported`` when it offers no H.264 video."""
    if offer.purpose == "camera" and claims.role != "phone":
        raise ApiError(403, "forbidden", "only a phone sends its camera")
    plays_film = offer.purpose == "film" and (
        claims.role == "screen" or (claims.role == "phone" and room.record.mode == "phones-play")
    )
    peers = await svc.media()
    from aiortc import RTCSessionDescription

    from mobile_bridge.peers import CodecUnsupported
    from mobile_bridge.rtp_origin import random_origin

    film = svc.film_tracks(room, claims.role) if plays_film else ()
    camera = svc.camera_frame if claims.role == "phone" else None
    origin = random_origin()
    try:
        answer = await peers.answer(
            claims.device,
            RTCSessionDescription(sdp=offer.sdp, type="offer"),
            film=film,
            on_camera=camera,
            rtp_origin=origin,
            purpose=offer.purpose,
        )
    except CodecUnsupported as exc:
        raise ApiError(422, exc.code, f"{exc}: Kinoroom streams H.264") from None
    except ValueError as exc:
        raise ApiError(422, "bad-sdp", f"the offer is not usable SDP: {exc}") from None
    svc.metrics.peers.set(len(peers))
    clock = FilmClock(rtp_origin=origin, film_epoch=room.film_epoch) if film else None
    return Answer(sdp=answer.sdp, film=clock)


@router.delete("/api/rooms/{code}/webrtc/camera", status_code=204)
async def drop_camera(claims: PageDep, svc: ServicesDep) -> None:
    """Close the page's camera-only peer now (its viewer turned the camera off)."""
    peers = await svc.media()
    await peers.close(claims.device, "camera")
    svc.metrics.peers.set(len(peers))


__all__ = ["router"]
