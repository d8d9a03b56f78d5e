"""The bridge to phones: the versioned phone protocol (`protocol`), clock sync (`clock`,
pure), the Python phone client used by tests, bots and load tests (`client`, `join`,
`reconnect`), the pages' WebRTC peers and ICE settings (`peers`, `ice`), the passthrough
film track (`film`), the media folder (`media`: stream renditions, ingest, the manifest,
encoding made-up clips) and the generated demo film (`demo_film`, `demo_picture`).

May import aiortc, av, websockets, httpx and ``narrative`` (types only); never ``server``.
``genmodels`` may import ``mobile_bridge.media`` and nothing else of it.
"""

from mobile_bridge.clock import ClockSync
from mobile_bridge.protocol import PROTOCOL_VERSION, ProtocolError, parse_client_message

__all__ = ["PROTOCOL_VERSION", "ClockSync", "ProtocolError", "parse_client_message"]
