"""The host's screening report, as JSON and as CSV (host token only).

Served from the database, not the live room, so the report of a room that ended before
a restart is still there.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response

from server.deps import ServicesDep
from server.errors import ApiError
from server.report import Report, build_report, report_csv
from server.roomcode import normalize

router = APIRouter(prefix="/api/rooms", tags=["reports"])


async def _report(code: str, svc: ServicesDep, authorization: str | None) -> Report:
    if not authorization or not authorization.startswith("Bearer "):
        raise ApiError(401, "bad-token", "this needs the host token (Authorization: Bearer ...)")
    normal = normalize(code) or code
    claims = svc.tokens.verify(authorization.removeprefix("Bearer ").strip(), normal)
    if claims.role != "host":
        raise ApiError(403, "forbidden", "only the host may read the report")
    report = await build_report(svc.store, normal)
    if report is None:
        raise ApiError(404, "room-not-found", f"no room {code!r}")
    live = svc.rooms.get(normal)  # playout is measured live, kept in memory, not stored
    if live is not None and (playout := svc.playout.summary(normal, live.clock.now())):
        report["playout"] = playout
    return report


@router.get("/{code}/report")
async def room_report(
    code: str,
    svc: ServicesDep,
    authorization: Annotated[str | None, Header()] = None,
) -> Report:
    """What the room chose, why, turnout over time and mood, node by node."""
    return await _report(code, svc, authorization)


@router.get("/{code}/report.csv")
async def room_report_csv(
    code: str,
    svc: ServicesDep,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    """The report's decisions as CSV: one row per node and option."""
    report = await _report(code, svc, authorization)
    return Response(
        report_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="kinoroom-{code}-report.csv"'},
    )


__all__ = ["router"]
