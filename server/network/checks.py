"""The network settings checked before ``kinoroom serve`` listens.

STUN/TURN URLs are parsed with aiortc's own parser (what the server's peers will do
with them) and checked for the scheme their setting expects; ICE host addresses must be
IP addresses (aioice binds to them); trusted proxies must be addresses or networks (what
uvicorn's proxy-headers middleware compares the peer with); the public URL must be an
http(s) URL with a host. Anything else is a `NetworkSetupError`. What works but will
surprise someone (an https public URL with no TLS here and no proxy trusted) is a
warning line.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from server.network.addresses import is_ip
from server.network.errors import NetworkSetupError
from server.settings import Settings


def _never_works(code: str, setting: str, why: str) -> NetworkSetupError:
    """A value that cannot work on any machine: exit status 2."""
    return NetworkSetupError(code, setting, why, exit_status=2)


def check_network_settings(settings: Settings) -> list[str]:
    """Raise on the first network setting that cannot work; return warning lines.

    Raises:
        NetworkSetupError: ``bad-ice-url``, ``turn-credentials``, ``bad-ice-host``,
            ``bad-proxy-address``, ``bad-public-url``.
    """
    for url in settings.stun_urls:
        _ice_url(url, "STUN_URLS", ("stun", "stuns"))
    for url in settings.turn_urls:
        _ice_url(url, "TURN_URLS", ("turn", "turns"))
    if settings.turn_urls and not (settings.turn_username and settings.turn_password):
        missing = "TURN_USERNAME" if not settings.turn_username else "TURN_PASSWORD"
        raise _never_works(
            "turn-credentials", missing, "a TURN server needs a username and a password"
        )
    for host in settings.ice_hosts:
        if not is_ip(host):
            raise _never_works(
                "bad-ice-host", "ICE_HOSTS", f"{host!r} is not an IP address of this machine"
            )
    for proxy in settings.trusted_proxies:
        _proxy(proxy)
    if settings.public_url is not None:
        parts = urlsplit(settings.public_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _never_works(
                "bad-public-url",
                "PUBLIC_URL",
                f"{settings.public_url!r} is not an http:// or https:// URL with a host",
            )
        behind_proxy = parts.scheme == "https" and not settings.serves_https()
        if behind_proxy and not settings.trusted_proxies:
            return [
                "warning proxy-untrusted: KINOROOM_TRUSTED_PROXIES: the public URL is "
                "https:// but this server speaks plain HTTP and trusts no proxy: set it "
                "to the proxy's address, or every phone counts as the proxy"
            ]
    return []


def _ice_url(url: str, setting: str, schemes: tuple[str, ...]) -> None:
    # Imported here: aiortc costs a start-up 0.1 s, and there are no ICE URLs by default.
    from aiortc.rtcicetransport import parse_stun_turn_uri

    try:
        parsed = parse_stun_turn_uri(url)
    except ValueError as exc:
        raise _never_works(
            "bad-ice-url", setting, f"{url!r}: {exc} (e.g. {schemes[0]}:host:3478)"
        ) from None
    scheme, transport = parsed["scheme"], parsed.get("transport")
    if scheme not in schemes:
        allowed = " or ".join(f"{s}:" for s in schemes)
        raise _never_works(
            "bad-ice-url", setting, f"{url!r}: a {scheme} URL; this setting takes {allowed}"
        )
    # aiortc would skip these silently, leaving the server's peers without the relay.
    if (scheme == "turn" and transport not in ("udp", "tcp")) or (
        scheme == "turns" and transport != "tcp"
    ):
        raise _never_works(
            "bad-ice-url",
            setting,
            f"{url!r}: transport={transport} is not offered with {scheme}: (turn: udp or tcp, "
            "turns: tcp)",
        )


def _proxy(text: str) -> None:
    if text == "*":
        return
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise _never_works(
            "bad-proxy-address",
            "TRUSTED_PROXIES",
            f"{text!r} is not an IP address or network (e.g. 127.0.0.1, 10.0.0.0/8)",
        ) from None


__all__ = ["check_network_settings"]
