"""The Kinoroom server: app factory, settings, Room actors, RoomBus, persistence, auth, routes, CLI.

May import every other package; nothing imports it. The narrative core stays pure: all
I/O (files, sockets, databases, clocks) happens here or in ``mobile_bridge``.
"""

__all__: list[str] = []
