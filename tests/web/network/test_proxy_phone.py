"""A phone through the shipped reverse proxy (docs/nginx/kinoroom.conf in Debian's nginx),
in real Chromium: TLS ends at nginx (a certificate for kino.test from a CA the browser
trusts), Kinoroom behind it speaks plain HTTP and trusts nginx's forwarded headers. The
phone joins over https://, votes, plays the film (WebRTC goes straight to Kinoroom, not
through nginx) and shares its mood: the WebSocket passes nginx with the public Origin."""

from __future__ import annotations

import datetime as dt

import pytest

from mobile_bridge.client import PhoneClient
from server.network.addresses import Names
from server.network.listeners import bind_socket
from server.network.local_ca import ensure_local_certificate
from tests.server.network.live import HOST, nss_home, serving
from tests.server.network.nginx import running_nginx
from tests.web.conftest import SCREEN
from tests.web.network.conftest import chromium, join, make_room, pages_for, vote_film_and_mood

pytestmark = pytest.mark.asyncio


async def test_a_phone_through_the_proxy_films_votes_and_shares_its_mood(
    tmp_path, face_video, film, request
):
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
        media_dir=film,
    ) as served:
        direct = f"http://127.0.0.1:{served.port}"  # the host's own client skips the proxy
        with running_nginx(
            tmp_path / "nginx",
            upstream=served.port,
            name=HOST,
            cert=tls.cert,
            key=tls.key,
            sockets=sockets,
        ):
            room = await make_room(direct)
            code = room["code"]
            async with (
                chromium(
                    nss_home(tmp_path / "home", tls.ca),
                    f"--use-file-for-fake-video-capture={face_video}",
                ) as browser,
                PhoneClient(direct, code, room["host_token"], "host", timeout_s=15) as host,
            ):
                pages = pages_for(browser, request)
                screen = await pages.open(f"{public}/screen/{code}", name="screen", viewport=SCREEN)
                phone = await join(pages, f"{public}/j/{code}")
                assert await phone.evaluate("window.isSecureContext") is True
                assert await phone.evaluate("location.origin") == public
                await vote_film_and_mood(pages, phone, screen, host)
                pages.check()
        log = (tmp_path / "nginx" / "access.log").read_text()
        assert f'"GET /ws/rooms/{code} HTTP/1.1" 101' in log  # the upgrade went through nginx
        assert "/api/rooms/" in log and "/models/face_landmarker.task" in log
