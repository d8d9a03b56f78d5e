"""The passthrough film track: the room's film to every peer over WebRTC, never re-encoded.

Owns reading encoded packets from ingest's MPEG-TS renditions (`source`), the film's
schedule and continuous RTP timestamp line across branch switches (`timeline`, pure),
the per-peer bounded queues (`fanout`, pure), one paced reader per room and rendition
(`reader`), aiortc tracks whose `recv()` returns packets (`track`) and the API the server
calls (`film.Film`). See DESIGN.md, "Media: passthrough, never re-encode per phone".

Sending to many peers: a frame is cut into RTP payloads and laid out once (`rtp`,
`packet`); per peer, `direct` stamps the headers, protects them in place with SRTP
(`srtp`) and sends the peer's packets of the frame in one UDP GSO system call (`gso`);
the reader holds frames other than big keyframes a little (`pacing`), so that a
keyframe's long pass leaves every peer's frames on time.

``timeline``, ``fanout``, ``pacing`` and ``rtp`` import neither asyncio, sockets, aiortc nor av;
nothing here imports ``server``.
"""

from mobile_bridge.film.errors import FilmClosed, FilmError, TimelineError
from mobile_bridge.film.fanout import FanOut, PeerQueue
from mobile_bridge.film.film import Film, MediaLookup, media_dir_lookup
from mobile_bridge.film.reader import Pacer, Reader, RealTimePacer
from mobile_bridge.film.source import ClipStream, EncodedPacket, Kind, PacketSource, open_clip
from mobile_bridge.film.timeline import Scene, Timeline
from mobile_bridge.film.track import FilmTrack

__all__ = [
    "ClipStream",
    "EncodedPacket",
    "FanOut",
    "Film",
    "FilmClosed",
    "FilmError",
    "FilmTrack",
    "Kind",
    "MediaLookup",
    "Pacer",
    "PacketSource",
    "PeerQueue",
    "Reader",
    "RealTimePacer",
    "Scene",
    "Timeline",
    "TimelineError",
    "media_dir_lookup",
    "open_clip",
]
