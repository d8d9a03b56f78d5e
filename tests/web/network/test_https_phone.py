"""A phone on the LAN, in real Chromium: `kinoroom serve --https` with its local CA.

Chromium opens https://kino.test (a LAN-style name mapped to 127.0.0.1) trusting only
the CA the server made (an NSS database in its home), joins, plays the film over
WebRTC, votes, turns the camera on (the face video), and the on-device numbers reach the
screen's mood meter. The same link over plain http:// shows why the camera needs the
HTTPS address and offers it, not "no camera". A phone that does not trust the CA, and a
server whose certificate expired, get the browser's refusal on https:// and the page's
explanation on http://.
"""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import expect

from mobile_bridge.client import PhoneClient
from server.network.addresses import Names
from server.network.local_ca import ensure_local_certificate
from server.network.tls import TlsMaterial
from tests.server.network.live import HOST, nss_home, serving
from tests.web.conftest import DESKTOP, SCREEN
from tests.web.network.conftest import (
    WAIT,
    chromium,
    join,
    make_room,
    pages_for,
    vote_film_and_mood,
)
from tests.web.support import decode_qr

pytestmark = pytest.mark.asyncio


async def test_a_lan_phone_over_https_films_votes_and_shares_its_mood(
    tmp_path, face_video, film, request
):
    async with serving(tmp_path, media_dir=film) as served:
        tls = served.listeners.state.tls
        assert tls is not None and tls.ca is not None
        home = nss_home(tmp_path / "home", tls.ca)  # trusts this CA and nothing else
        plain = served.plain_url.replace(HOST, "127.0.0.1")  # type: ignore[union-attr]
        room = await make_room(plain)
        code = room["code"]
        assert room["join_url"] == f"{served.url}/j/{code}"
        async with (
            chromium(home, f"--use-file-for-fake-video-capture={face_video}") as browser,
            PhoneClient(plain, code, room["host_token"], "host", timeout_s=15) as host,
        ):
            pages = pages_for(browser, request)
            screen = await pages.open(f"{served.url}/screen/{code}", name="screen", viewport=SCREEN)
            phone = await join(pages, f"{served.url}/j/{code}")
            assert await phone.evaluate("window.isSecureContext") is True
            await vote_film_and_mood(pages, phone, screen, host)

            # The host page tells how phones come to trust this server.
            fragment = f"room={code}&token={room['host_token']}"
            hosting = await pages.open(
                f"{served.url}/host#{fragment}", name="host", viewport=DESKTOP
            )
            trust = hosting.locator("#trust")
            await expect(trust).to_have_attribute("data-state", "local-ca", **WAIT)
            await expect(trust).to_contain_text("Certificate Trust Settings")  # iOS
            await expect(trust).to_contain_text("Install a certificate")  # Android
            await expect(trust).to_contain_text("Your connection is not private")  # skipped
            await expect(hosting.locator("#trust-fingerprint")).to_have_text(
                tls.ca_fingerprint or ""
            )
            ca_url = f"{served.plain_url}/tls/ca.crt"
            await expect(hosting.locator("#trust-ca-link")).to_have_attribute("href", ca_url)
            await trust.scroll_into_view_if_needed()
            assert await decode_qr(hosting, "#trust-qr") == ca_url
            await pages.shot(hosting, "host-trust-panel")

            # The same link over plain http://: the explanation and the way there.
            assert served.plain_url is not None
            other = await pages.open(f"{served.plain_url}/j/{code}", name="plain")
            assert await other.evaluate("window.isSecureContext") is False
            await other.fill("#nickname", "Bob")
            await other.click("#join")
            await expect(other.locator("#room-title")).to_have_text("Night network", **WAIT)
            box = other.locator("#camera-insecure")
            await expect(box).to_be_visible()
            await expect(box).to_have_attribute("data-state", "trusted", **WAIT)
            await expect(box).to_contain_text("The mood camera needs the secure address")
            link = other.locator("#secure-link")
            await expect(link).to_have_attribute("href", f"{served.url}/j/{code}")
            await expect(other.locator("#ca-fingerprint")).to_have_text(tls.ca_fingerprint or "")
            await other.click("#camera-toggle")
            await expect(other.locator("#camera-error")).to_be_hidden()
            await expect(other.locator("body")).not_to_contain_text("No camera is available")
            await pages.shot(other, "plain-http-explains")
            await link.click()  # the way there works: the secure page, camera allowed
            await other.wait_for_url(f"{served.url}/j/{code}")
            assert await other.evaluate("window.isSecureContext") is True
            pages.check()


async def test_an_untrusted_or_expired_certificate_is_explained(tmp_path, request):
    now = dt.datetime.now(dt.UTC)
    async with serving(tmp_path / "a") as served:
        tls = served.listeners.state.tls
        assert tls is not None
        async with chromium(nss_home(tmp_path / "nobody")) as browser:  # trusts no local CA
            pages = pages_for(browser, request, "-untrusted")
            phone = await pages.open("about:blank", name="untrusted")
            with pytest.raises(PlaywrightError, match="ERR_CERT_AUTHORITY_INVALID"):
                await phone.goto(f"{served.url}/phone")
            pages.allow_http_error(r"/healthz$")  # the page's own probe of the https address
            plain = await pages.open(f"{served.plain_url}/phone", name="untrusted-plain")
            box = plain.locator("#camera-insecure")
            await expect(box).to_have_attribute("data-state", "untrusted", **WAIT)
            await expect(box).to_contain_text("does not trust the secure address yet")
            await expect(plain.locator("#ca-link")).to_have_attribute(
                "href", f"{served.plain_url}/tls/ca.crt"
            )
            await pages.shot(plain, "untrusted")
            pages.check()

    # A certificate from a CA the phone trusts, but past its date.
    old = ensure_local_certificate(
        tmp_path / "old", Names(("localhost", HOST), ("127.0.0.1",)), now - dt.timedelta(days=400)
    )
    expired = TlsMaterial(
        cert=old.cert,
        key=old.key,
        expires_at=old.expires_at,
        ca=old.ca,
        ca_fingerprint=old.ca_fingerprint,
    )
    async with (
        serving(tmp_path / "b", tls=expired) as served,
        chromium(nss_home(tmp_path / "trusting", old.ca)) as browser,
    ):
        pages = pages_for(browser, request, "-expired")
        phone = await pages.open("about:blank", name="expired")
        with pytest.raises(PlaywrightError, match="ERR_CERT_DATE_INVALID"):
            await phone.goto(f"{served.url}/phone")
        plain = await pages.open(f"{served.plain_url}/phone", name="expired-plain")
        box = plain.locator("#camera-insecure")
        await expect(box).to_have_attribute("data-state", "expired", **WAIT)
        await expect(box).to_contain_text("certificate expired on")
        await pages.shot(plain, "expired")
        pages.check()


async def test_plain_http_on_a_lan_name_says_the_server_needs_https(tmp_path, request):
    """`make run` on a LAN without --https: phones can vote, and learn why no camera."""
    async with serving(tmp_path, plain=False, https=False, public_url="http://kino.test") as served:
        url = f"http://{HOST}:{served.port}"
        room = await make_room(f"http://127.0.0.1:{served.port}")
        async with chromium(nss_home(tmp_path / "home")) as browser:
            pages = pages_for(browser, request)
            phone = await pages.open(f"{url}/j/{room['code']}", name="phone")
            box = phone.locator("#camera-insecure")
            await expect(box).to_have_attribute("data-state", "no-https", **WAIT)
            await expect(box).to_contain_text("kinoroom serve --https")
            await expect(phone.locator("#secure-link")).to_be_hidden()
            await pages.shot(phone, "no-https")
            fragment = f"room={room['code']}&token={room['host_token']}"
            host = await pages.open(f"{url}/host#{fragment}", name="host", viewport=DESKTOP)
            trust = host.locator("#trust")
            await expect(trust).to_have_attribute("data-state", "plain-http", **WAIT)
            await expect(trust).to_contain_text("kinoroom serve --https")
            pages.check()
