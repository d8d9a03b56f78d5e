"""Operations: liveness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from server.deps import ServicesDep

router = APIRouter(tags=["ops"])


@router.get("/healthz")
async def healthz(svc: ServicesDep) -> dict[str, object]:
    return {"status": "ok", "rooms": sum(1 for _ in svc.rooms)}


@router.get("/metrics")
async def metrics(svc: ServicesDep) -> Response:
    return Response(generate_latest(svc.metrics.exposed), media_type=CONTENT_TYPE_LATEST)
