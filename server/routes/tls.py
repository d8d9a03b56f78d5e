"""How a phone reaches this server securely: ``/api/tls``, ``/tls/ca.crt``, its QR code.

A page that is not a secure context (a phone on ``http://LAN-ADDRESS``) cannot open the
camera; it asks ``/api/tls`` for the HTTPS address to offer instead, and for the local
CA's certificate a phone installs once to trust that address. The CA's certificate is
public by nature; its private key never leaves ``DATA_DIR/tls`` (0600).
"""

from __future__ import annotations

import datetime as dt
import io

import segno
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from server.errors import ApiError
from server.network.listeners import NetworkState
from server.settings import Settings

router = APIRouter()
CA_PATH = "/tls/ca.crt"


class LocalCa(BaseModel):
    url: str = Field(
        description="where a phone downloads the CA certificate (plain HTTP when offered)"
    )
    sha256: str = Field(description="the CA certificate's SHA-256 fingerprint, AB:CD:…")
    qr: str = Field(description="a QR code of `url` (SVG)")


class Certificate(BaseModel):
    expires_at: dt.datetime
    expired: bool
    local: bool = Field(description="made by Kinoroom's local CA (renewed by the server)")


class TlsInfo(BaseModel):
    secure: bool = Field(description="this request came over HTTPS (directly or via a proxy)")
    https_url: str | None = Field(description="the HTTPS address to offer; none: no HTTPS here")
    plain_url: str | None = Field(description="the plain-HTTP listener beside HTTPS, if any")
    ca: LocalCa | None = Field(description="Kinoroom's local CA, when it made the certificate")
    certificate: Certificate | None = Field(description="what the HTTPS listener serves")


def _state(request: Request) -> NetworkState | None:
    state: NetworkState | None = getattr(request.app.state, "network", None)
    return state


def _https_url(request: Request, settings: Settings, state: NetworkState | None) -> str | None:
    """The HTTPS address for the host this phone already reaches the server by."""
    if settings.public_url and settings.public_url.startswith("https://"):
        return settings.public_url.rstrip("/")
    if request.url.scheme == "https":
        return str(request.base_url).rstrip("/")
    if state is None or state.https_port is None:
        return None
    host = request.url.hostname or "localhost"
    host = f"[{host}]" if ":" in host else host
    return f"https://{host}:{state.https_port}"


def _ca_url(request: Request, state: NetworkState) -> str:
    base = state.plain_url or str(request.base_url).rstrip("/")
    return base + CA_PATH


@router.get("/api/tls")
async def tls_info(request: Request) -> TlsInfo:
    """What a page needs to send a phone to the HTTPS address."""
    settings: Settings = request.app.state.services.settings
    state = _state(request)
    tls = state.tls if state is not None else None
    ca = certificate = None
    if state is not None and tls is not None:
        if tls.ca_fingerprint is not None:
            ca = LocalCa(
                url=_ca_url(request, state), sha256=tls.ca_fingerprint, qr="/tls/ca-qr.svg"
            )
        now = dt.datetime.now(dt.UTC)
        certificate = Certificate(
            expires_at=tls.expires_at, expired=tls.expires_at <= now, local=tls.generated
        )
    return TlsInfo(
        secure=request.url.scheme == "https",
        https_url=_https_url(request, settings, state),
        plain_url=state.plain_url if state is not None else None,
        ca=ca,
        certificate=certificate,
    )


def _local_ca(request: Request) -> tuple[NetworkState, bytes]:
    state = _state(request)
    pem = state.tls.ca_pem() if state is not None and state.tls is not None else None
    if state is None or pem is None:
        raise ApiError(
            404, "no-local-ca", "this server uses no local CA (no --https, or your own certificate)"
        )
    return state, pem


@router.get(CA_PATH, include_in_schema=False)
async def ca_certificate(request: Request) -> Response:
    """The local CA's certificate (PEM): Android and iOS offer to install a .crt."""
    _, pem = _local_ca(request)
    headers = {
        "Content-Disposition": 'attachment; filename="kinoroom-ca.crt"',
        "Cache-Control": "no-cache",
    }
    return Response(pem, media_type="application/x-x509-ca-cert", headers=headers)


@router.get("/tls/ca-qr.svg", include_in_schema=False)
async def ca_qr(request: Request) -> Response:
    """A QR code of the CA certificate's download address, for the host page."""
    state, _ = _local_ca(request)
    buffer = io.BytesIO()
    segno.make(_ca_url(request, state), error="m").save(buffer, kind="svg", scale=6, border=2)
    return Response(buffer.getvalue(), media_type="image/svg+xml")


__all__ = ["router"]
