"""The host's screening report, as JSON and as CSV (host token only).

Served from the database, not the live room, so the report of a room that ended before
a restart is still there.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request, Response

from server.deps import Authorization, ServicesDep, address, bearer
from server.errors import ApiError
from server.report import Report, build_report, report_csv
from server.roomcode import normalize

router = APIRouter(prefix="/api/rooms", tags=["reports"])


async def _report(
    code: str, svc: ServicesDep, request: Request, authorization: str | None
) -> Report:
    now = time.monotonic()
    await svc.door.seat(code, bearer(authorization), address(request), now, needs="host")
    normal = normalize(code) or code
    report = await build_report(svc.store, normal)
    if report is None:
        raise ApiError(404, "room-not-found", f"no room {code!r}")
    live = svc.rooms.get(normal)  # playout is measured live, kept in memory, not stored
    if live is not None and (playout := svc.playout.summary(normal, live.clock.now())):
        report["playout"] = playout
    return report


@router.get("/{code}/report")
async def room_report(
    code: str, svc: ServicesDep, request: Request, authorization: Authorization = None
) -> Report:
    """What the room chose, why, turnout over time and mood, node by node."""
    return await _report(code, svc, request, authorization)


@router.get("/{code}/report.csv")
async def room_report_csv(
    code: str, svc: ServicesDep, request: Request, authorization: Authorization = None
) -> Response:
    """The report's decisions as CSV: one row per node and option."""
    report = await _report(code, svc, request, authorization)
    return Response(
        report_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="kinoroom-{code}-report.csv"'},
    )


__all__ = ["router"]
