"""WebRTC negotiation: a page posts its offer, the server answers (film out, camera in).

The page authenticates with the token it says in ``hello``. In a ``phones-play`` room
phones and screens receive the film; in a ``big-screen`` room only screens do and phones
are controllers. A phone may send its camera in either mode, for server-side analysis.
"""

from __future__ import annotations

from typing import Annotated, Literal

from aiortc import RTCSessionDescription
from fastapi import APIRouter, Header
from pydantic import BaseModel, Field

from mobile_bridge.peers import CodecUnsupported
from server.deps import RoomDep, ServicesDep
from server.errors import ApiError

router = APIRouter(prefix="/api/rooms", tags=["webrtc"])


class Offer(BaseModel):
    type: Literal["offer"]
    sdp: str = Field(min_length=1, max_length=64_000)


class Answer(BaseModel):
    type: Literal["answer"] = "answer"
    sdp: str


@router.post("/{code}/webrtc")
async def negotiate(
    room: RoomDep,
    offer: Offer,
    svc: ServicesDep,
    authorization: Annotated[str | None, Header()] = None,
) -> Answer:
    """Answer a page's offer; 422 ``codec-unsupported`` when it offers no H.264 video."""
    if not authorization or not authorization.startswith("Bearer "):
        raise ApiError(401, "bad-token", "this needs the page's token (Authorization: Bearer ...)")
    claims = svc.tokens.verify(authorization.removeprefix("Bearer ").strip(), room.code)
    assert svc.peers is not None, "services start their peers"
    plays_film = claims.role == "screen" or (
        claims.role == "phone" and room.record.mode == "phones-play"
    )
    film = svc.film_tracks(room, claims.role) if plays_film else ()
    camera = svc.camera_frame if claims.role == "phone" else None
    try:
        answer = await svc.peers.answer(
            claims.device,
            RTCSessionDescription(sdp=offer.sdp, type="offer"),
            film=film,
            on_camera=camera,
        )
    except CodecUnsupported as exc:
        raise ApiError(422, exc.code, f"{exc}: Kinoroom streams H.264") from None
    except ValueError as exc:
        raise ApiError(422, "bad-sdp", f"the offer is not usable SDP: {exc}") from None
    svc.metrics.peers.set(len(svc.peers))
    return Answer(sdp=answer.sdp)


__all__ = ["router"]
