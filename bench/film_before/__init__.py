"""The film track as it was before issue 17 (Kinoroom commit 9a3fc34), for comparison.

``bench/fanout.py --modes ours-before`` measures it beside today's `mobile_bridge.film`:
a frozen copy of the modules that issue 17 changed (``direct``, ``rtp``, ``packet``,
``track``, ``fanout``, ``reader``, ``film``), importing the unchanged ones (``source``,
``timeline``, ``errors``) from `mobile_bridge.film`. It sends every packet of every peer
with its own ``sendto`` after pylibsrtp's copying ``protect``, packetizes as aiortc does,
goes through each peer's queue, and publishes keyframes when due. Not maintained and not
imported by Kinoroom: a baseline only; delete it once the comparison is no longer wanted.
"""

from .film import Film

__all__ = ["Film"]
