"""Kinoroom behind the shipped nginx configuration: TLS at the proxy, WebSockets through
it, and the failed-join budget counting each phone's address, not the proxy's."""

from __future__ import annotations

import datetime as dt
import json
import ssl
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from server.network.addresses import Names
from server.network.listeners import bind_socket
from server.network.local_ca import ensure_local_certificate
from tests.server.conftest import QUICK_STORY
from tests.server.network.live import HOST, serving
from tests.server.network.nginx import running_nginx

pytestmark = pytest.mark.asyncio


def client(ca: Path, source: str, port: int) -> httpx.AsyncClient:
    """A phone at ``source`` (a loopback address of its own) talking to the proxy."""
    context = ssl.create_default_context(cafile=str(ca))
    transport = httpx.AsyncHTTPTransport(verify=context, local_address=source)
    return httpx.AsyncClient(transport=transport, base_url=f"https://127.0.0.1:{port}")


async def test_the_budget_counts_phones_behind_the_proxy_not_the_proxy(tmp_path):
    tls = ensure_local_certificate(
        tmp_path / "proxy-tls", Names((HOST,), ("127.0.0.1",)), dt.datetime.now(dt.UTC)
    )
    sockets = (bind_socket("127.0.0.1", 0), bind_socket("127.0.0.1", 0))
    public = f"https://{HOST}:{sockets[0].getsockname()[1]}"
    async with serving(
        tmp_path,
        plain=False,
        https=False,
        public_url=public,
        trusted_proxies=["127.0.0.1"],
        join_attempts_per_min=3,
    ) as served:
        with running_nginx(
            tmp_path / "nginx",
            upstream=served.port,
            name=HOST,
            cert=tls.cert,
            key=tls.key,
            sockets=sockets,
        ) as proxy:
            async with (
                client(tls.ca, "127.0.0.2", proxy.https_port) as ada,
                client(tls.ca, "127.0.0.3", proxy.https_port) as bob,
            ):
                story = await ada.post("/api/stories", json={"source": QUICK_STORY})
                room = await ada.post("/api/rooms", json={"story_id": story.json()["id"]})
                assert room.status_code == 201, room.text
                # Links and socket URLs say https/wss and the public name.
                assert room.json()["join_url"].startswith(f"{public}/j/")
                assert room.json()["ws_url"].startswith(f"wss://{HOST}:")
                # Ada mistypes the code until her budget is spent, claiming to be someone
                # else each time: nginx appends her real address, which is what counts.
                statuses = []
                for i in range(4):
                    spoof = {"X-Forwarded-For": f"203.0.113.{i}"}
                    response = await ada.get("/api/rooms/ZZZZZZ", headers=spoof)
                    statuses.append(response.status_code)
                assert statuses == [404, 404, 404, 429]
                # Bob, behind the same proxy, is not blocked for Ada's mistakes.
                assert (await bob.get("/api/rooms/ZZZZZZ")).status_code == 404
                joined = await bob.post(
                    f"/api/rooms/{room.json()['code']}/join", json={"nickname": "Bob"}
                )
                assert joined.status_code == 201, joined.text
            failures = served.services.door.failures.limiter
            assert set(failures._buckets) == {"127.0.0.2", "127.0.0.3"}  # never the proxy

            # The WebSocket passes through nginx (Upgrade), its Origin is the public one,
            # and a wrong code over it costs the phone's own address too.
            context = ssl.create_default_context(cafile=str(tls.ca))
            url = f"wss://127.0.0.1:{proxy.https_port}/ws/rooms/{room.json()['code']}"
            async with connect(url, ssl=context, origin=public, local_addr=("127.0.0.4", 0)) as ws:  # type: ignore[arg-type]
                hello = {
                    "type": "hello",
                    "protocol": 1,
                    "role": "phone",
                    "token": joined.json()["token"],
                }
                await ws.send(json.dumps(hello))
                welcome = json.loads(await ws.recv())
            assert welcome["type"] == "welcome", welcome
            wrong = f"wss://127.0.0.1:{proxy.https_port}/ws/rooms/ZZZZZZ"
            async with connect(
                wrong, ssl=context, origin=public, local_addr=("127.0.0.5", 0)
            ) as ws:  # type: ignore[arg-type]
                await ws.send(json.dumps({**hello, "token": "x"}))
                refused = json.loads(await ws.recv())
            assert refused["code"] == "room-not-found"
            assert "127.0.0.5" in failures._buckets and "127.0.0.1" not in failures._buckets

            # Plain HTTP at the proxy sends phones to HTTPS.
            async with httpx.AsyncClient() as plain:
                moved = await plain.get(f"http://127.0.0.1:{proxy.http_port}/j/ABC")
            assert moved.status_code == 301
            assert moved.headers["location"] == "https://127.0.0.1/j/ABC"
