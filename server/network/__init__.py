"""Kinoroom on a real network: HTTPS for phones on a LAN, reverse proxies, ICE settings.

Browsers open the camera only in a secure context (``https://`` or ``localhost``), so a
phone reaching the server by a LAN address needs TLS (DESIGN.md, "Real networks").
This package makes a local certificate authority and a server certificate
(`local_ca`), checks certificates a user brings (`certificates`), turns the settings into
the listeners ``kinoroom serve`` opens (`listeners`) and checks the STUN/TURN and proxy
settings before anything listens (`checks`). Every problem is a `NetworkSetupError`:
one line, a stable code, the setting and the file it concerns.
"""

from __future__ import annotations

from server.network.errors import NetworkSetupError

__all__ = ["NetworkSetupError"]
