"""The bridge to phones: the versioned phone protocol (typed messages), clock sync, aiortc
peers (film out, camera in), the passthrough film track and its relay, media ingest, and
a Python phone client for tests, bots and load tests.

May import aiortc, av, websockets and ``narrative`` (types only); never ``server``.
Nothing is here yet: the rooms server and the film-over-WebRTC issues fill it.
"""

__all__: list[str] = []
