"""This machine's names and LAN addresses: what a phone may type or scan to reach it.

The local server certificate must name every one of them (a phone checks the name in the
address bar against it), and ``kinoroom serve`` listening on every interface (0.0.0.0)
prints a link with a LAN address rather than one no phone can open.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

WILDCARDS = {"0.0.0.0", "::", ""}


@dataclass(frozen=True, slots=True)
class Names:
    """What a server certificate must cover: host names and IP addresses, in order."""

    dns: tuple[str, ...]
    ips: tuple[str, ...]

    def covers(self, other: Names) -> bool:
        return set(other.dns) <= set(self.dns) and set(other.ips) <= set(self.ips)


def lan_addresses() -> list[str]:
    """This machine's IPv4 and global IPv6 addresses, loopback and link-local left out."""
    # Imported here: ifaddr runs `ldconfig -p` in a child process as it loads, which a
    # server on one address (the default, 127.0.0.1) would wait for at every start.
    import ifaddr

    found: list[str] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            text = ip.ip if isinstance(ip.ip, str) else ip.ip[0]
            address = ipaddress.ip_address(text.split("%")[0])
            if address.is_loopback or address.is_link_local or address.is_unspecified:
                continue
            found.append(str(address))
    return list(dict.fromkeys(sorted(found, key=lambda a: (":" in a, a))))


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def machine_names(*extra_hosts: str) -> Names:
    """The names and addresses of this machine, plus ``extra_hosts`` (the public URL's
    host, the listen address): localhost, the host name, ``NAME.local`` (mDNS, which
    phones on a home network resolve), the fully qualified name, every LAN address."""
    hostname = socket.gethostname()
    dns = ["localhost", hostname, f"{hostname.split('.')[0]}.local", socket.getfqdn()]
    ips = ["127.0.0.1", "::1", *lan_addresses()]
    for host in extra_hosts:
        if host in WILDCARDS:
            continue
        (ips if is_ip(host) else dns).append(host.lower())
    usable = [d for d in dns if d and "." not in d[:1] and not is_ip(d)]
    return Names(tuple(dict.fromkeys(usable)), tuple(dict.fromkeys(ips)))


def url_host(url: str) -> str:
    """The host of a URL, without port or IPv6 brackets (``''`` when it has none)."""
    return urlsplit(url).hostname or ""


def origin_of(url: str) -> str:
    """A URL's origin as a browser sends it in ``Origin``: scheme://host[:port], lower
    case, the scheme's default port left out."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    host = f"[{host}]" if ":" in host else host
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    port = parts.port if parts.port not in (None, default) else None
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port else "")


def reachable_host(listen: str) -> str:
    """A host for links when the server listens on ``listen``: the first LAN address for
    a wildcard (no phone can open 0.0.0.0), else ``listen`` itself."""
    if listen not in WILDCARDS:
        return listen
    found = lan_addresses()
    return found[0] if found else "127.0.0.1"


__all__ = [
    "Names",
    "is_ip",
    "lan_addresses",
    "machine_names",
    "origin_of",
    "reachable_host",
    "url_host",
]
