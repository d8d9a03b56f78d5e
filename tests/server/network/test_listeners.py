"""`kinoroom serve --https` on real sockets: HTTPS and WSS with the local CA, the plain
listener beside it, renewal while running, forwarded headers only from trusted proxies,
the WebSocket Origin check against the public URL, ICE candidates on LAN addresses."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
import socket
import ssl

import httpx
import pytest
from cryptography import x509
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from mobile_bridge.join import join_room
from server.network.addresses import lan_addresses
from server.network.listeners import renew
from server.serve import banner
from tests.server.conftest import QUICK_STORY
from tests.server.network.live import Served, serving

pytestmark = pytest.mark.asyncio


def trusting(served: Served) -> ssl.SSLContext:
    """A client that trusts exactly the server's local CA."""
    assert served.listeners.state.tls is not None and served.listeners.state.tls.ca
    return ssl.create_default_context(cafile=str(served.listeners.state.tls.ca))


def peer_certificate(port: int, context: ssl.SSLContext) -> bytes:
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return der


async def room_code(http: httpx.AsyncClient) -> str:
    story = await http.post("/api/stories", json={"source": QUICK_STORY})
    created = await http.post("/api/rooms", json={"story_id": story.json()["id"]})
    assert created.status_code == 201, created.text
    return str(created.json()["code"])


async def test_https_wss_and_the_plain_listener_with_the_local_ca(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    async with serving(tmp_path) as served:
        tls = served.listeners.state.tls
        assert tls is not None and tls.ca is not None and tls.generated
        base = f"https://127.0.0.1:{served.port}"
        async with httpx.AsyncClient(base_url=base, verify=trusting(served)) as http:
            assert (await http.get("/healthz")).status_code == 200
            code = await room_code(http)
            created = (await http.get(f"/api/rooms/{code}")).json()
            assert created["join_url"] == f"{served.url}/j/{code}"  # https, the public name
            info = (await http.get("/api/tls")).json()
        assert info["secure"] is True
        assert info["https_url"] == served.url
        assert info["ca"]["sha256"] == tls.ca_fingerprint
        assert info["certificate"]["local"] is True and info["certificate"]["expired"] is False
        async with httpx.AsyncClient() as system_roots:  # they do not know the local CA
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await system_roots.get(f"{base}/healthz")

        # WSS: a page from the public origin may open the socket, another origin may not.
        wss = f"wss://127.0.0.1:{served.port}/ws/rooms/{code}"
        async with connect(wss, ssl=trusting(served), origin=served.url) as ws:  # type: ignore[arg-type]
            await ws.send(
                json.dumps({"type": "hello", "protocol": 1, "role": "phone", "token": "x"})
            )
            reply = json.loads(await ws.recv())
        assert reply["code"] in {"bad-token", "protocol-version"}, reply
        with pytest.raises(InvalidStatus):
            async with connect(wss, ssl=trusting(served), origin="https://evil.test"):  # type: ignore[arg-type]
                pass

        # The plain listener: the same app, telling the HTTPS address and serving the CA.
        assert served.plain_url is not None
        plain_port = int(served.plain_url.rsplit(":", 1)[1])
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{plain_port}") as plain:
            info = (await plain.get("/api/tls")).json()
            ca = await plain.get("/tls/ca.crt")
            qr = await plain.get("/tls/ca-qr.svg")
        assert info["secure"] is False and info["https_url"] == served.url
        assert info["ca"]["url"] == f"{served.plain_url}/tls/ca.crt"
        assert ca.content == tls.ca.read_bytes()
        assert ca.headers["content-type"] == "application/x-x509-ca-cert"
        assert b"PRIVATE" not in ca.content
        assert qr.headers["content-type"] == "image/svg+xml"
        text = banner(served.services, served.url, served.listeners.state)
        assert f"{served.plain_url}/tls/ca.crt" in text and tls.ca_fingerprint in text
    # No private key anywhere in the logs.
    keys = [tls.key.read_text(), (tls.ca.with_name("ca.key")).read_text()]
    secret_lines = {line for key in keys for line in key.splitlines() if "-----" not in line}
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "PRIVATE KEY" not in logged
    assert not [line for line in secret_lines if line in logged]


async def test_a_running_server_renews_its_local_certificate(tmp_path):
    async with serving(tmp_path, plain=False) as served:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the renewed one is valid from the faked "now"
        before = await asyncio.to_thread(peer_certificate, served.port, context)
        assert not renew(served.listeners, dt.datetime.now(dt.UTC))  # not due yet
        due = dt.datetime.now(dt.UTC) + dt.timedelta(days=380)
        assert renew(served.listeners, due)
        # A new connection gets the new certificate.
        after = await asyncio.to_thread(peer_certificate, served.port, context)
        assert after != before
        tls = served.listeners.state.tls
        assert tls is not None and tls.expires_at > due
        served_now = x509.load_der_x509_certificate(after)
        assert served_now.not_valid_after_utc == tls.expires_at
        assert served_now.issuer == x509.load_der_x509_certificate(before).issuer  # same CA


async def wrong_codes(http: httpx.AsyncClient, forwarded_for: str, n: int) -> list[int]:
    headers = {"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": "https"}
    return [(await http.get("/api/rooms/ZZZZZZ", headers=headers)).status_code for _ in range(n)]


@pytest.mark.parametrize("trusted", [True, False], ids=["proxy-trusted", "nobody-trusted"])
async def test_forwarded_addresses_count_only_from_a_trusted_proxy(tmp_path, trusted):
    async with serving(
        tmp_path,
        plain=False,
        https=False,
        public_url="https://kino.example.org",
        trusted_proxies=["127.0.0.1"] if trusted else [],
        join_attempts_per_min=3,
    ) as served:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{served.port}") as http:
            assert await wrong_codes(http, "198.51.100.7", 4) == [404, 404, 404, 429]
            other = await wrong_codes(http, "198.51.100.8", 1)
        if trusted:
            assert other == [404]  # a different phone behind the same proxy
            assert (
                served.services.door.failures.limiter.blocked("198.51.100.7", 1e12) is False
            )  # refills
            assert "127.0.0.1" not in served.services.door.failures.limiter._buckets
        else:
            assert other == [429]  # the header was not believed: both are 127.0.0.1
            assert "198.51.100.7" not in served.services.door.failures.limiter._buckets


async def test_the_answer_offers_the_lan_addresses_phones_can_reach(tmp_path):
    from aiortc import RTCPeerConnection

    reachable = [a for a in lan_addresses() if ":" not in a]
    if not reachable:
        pytest.skip("this machine has no LAN address")
    async with (
        serving(tmp_path, plain=False, https=False, ice_hosts=[]) as served,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{served.port}") as http,
    ):
        code = await room_code(http)
        seat = await join_room(f"http://127.0.0.1:{served.port}", code, "Ada", http=http)
        phone = RTCPeerConnection()
        phone.addTransceiver("video", direction="recvonly")
        try:
            await phone.setLocalDescription(await phone.createOffer())
            response = await http.post(
                f"/api/rooms/{code}/webrtc",
                json={"type": "offer", "sdp": phone.localDescription.sdp},
                headers={"Authorization": f"Bearer {seat.token}"},
            )
        finally:
            await phone.close()
    assert response.status_code == 200, response.text
    offered = set(
        re.findall(r"a=candidate:\S+ \d+ udp \d+ (\S+) \d+ typ host", response.json()["sdp"])
    )
    assert set(reachable) <= offered, offered
