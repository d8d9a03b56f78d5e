"""ICE for the server's WebRTC peers: which host addresses it offers, which STUN/TURN.

aioice gathers a host candidate on every address of every interface except loopback. A
server usually wants fewer (the address phones can reach) and tests want exactly
127.0.0.1 (DESIGN.md, Media: "configurable host addresses, no default public STUN server,
every test stays on 127.0.0.1"). aioice has no option for it, so `restrict_host_addresses`
replaces its address lookup: process-wide, as the setting it implements is.
"""

from __future__ import annotations

from collections.abc import Sequence

import aioice.ice
from aiortc import RTCConfiguration, RTCIceServer

_original_lookup = aioice.ice.get_host_addresses


def restrict_host_addresses(hosts: Sequence[str] | None) -> None:
    """Offer host candidates on exactly ``hosts`` (None: every interface, aioice's default).

    Loopback is allowed (aioice leaves it out), so ``["127.0.0.1"]`` keeps a test's media
    on the machine.
    """
    if not hosts:
        aioice.ice.get_host_addresses = _original_lookup
        return
    chosen = list(dict.fromkeys(hosts))

    def lookup(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [h for h in chosen if (":" in h and use_ipv6) or (":" not in h and use_ipv4)]

    aioice.ice.get_host_addresses = lookup


def ice_configuration(
    *,
    stun_urls: Sequence[str] = (),
    turn_urls: Sequence[str] = (),
    turn_username: str | None = None,
    turn_password: str | None = None,
) -> RTCConfiguration:
    """The peer configuration: no ICE server unless configured (no public STUN by default)."""
    servers = []
    if stun_urls:
        servers.append(RTCIceServer(urls=list(stun_urls)))
    if turn_urls:
        servers.append(
            RTCIceServer(urls=list(turn_urls), username=turn_username, credential=turn_password)
        )
    return RTCConfiguration(iceServers=servers)


__all__ = ["ice_configuration", "restrict_host_addresses"]
