"""One node of the fan-out benchmark's ``--nodes`` ramps: a film reader and its phones.

Started by ``bench/fanout.py``, never by hand, once per node. Each node is what a
``kinoroom serve`` node of a cluster does for the film (DESIGN.md, Scale): its own
`Film` reader over the same clip, started at the same instant on the machine's
monotonic clock (the room clock every node shares), sending to the phones that
connected through it. It speaks JSON lines on stdin/stdout:

* ``{"op": "play", "starts_at": T}`` → ``{}``: the film starts at ``time.monotonic()``
  ``T`` (every node is given the same ``T``);
* ``{"op": "answer", "sdps": [...]}`` → ``{"answers": [...]}``: a peer per offer,
  subscribed to the film's 360p;
* ``{"op": "take"}`` → ``{}``: the measured interval starts (counters reset);
* ``{"op": "stats"}`` → since ``take``: wall and CPU seconds of this process, what left
  its sockets (`SendWatch`: frames, late, behind, packets), GC pauses and how many of
  its peers are in each connection state;
* end of input closes the peers and the film, and ends the process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aioice.ice
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack
from fanout_watch import GcWatch, SendWatch

from mobile_bridge.film import Film, media_dir_lookup


async def answer_offer(
    offer: str, tracks: Sequence[MediaStreamTrack], pcs: list[RTCPeerConnection]
) -> str:
    """A server peer for one phone's offer, sending ``tracks``; returns its answer's SDP."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pcs.append(pc)
    await pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
    for track in tracks:
        pc.addTrack(track)
    await pc.setLocalDescription(await pc.createAnswer())
    return str(pc.localDescription.sdp)


async def serve(film_root: Path) -> None:
    watch, gc_watch = SendWatch(), GcWatch()
    film = Film(time.monotonic, media_dir_lookup(film_root), direct=True)
    pcs: list[RTCPeerConnection] = []
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 26)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    wall0, cpu0 = time.monotonic(), time.process_time()
    try:
        while line := await reader.readline():
            command = json.loads(line)
            reply: dict[str, Any] = {}
            if command["op"] == "play":
                film.play("long", starts_at=command["starts_at"])
            elif command["op"] == "answer":
                answers = [
                    await answer_offer(o, film.subscribe("360p"), pcs) for o in command["sdps"]
                ]
                reply = {"answers": answers}
            elif command["op"] == "take":
                watch.take()
                gc_watch.take()
                wall0, cpu0 = time.monotonic(), time.process_time()
            elif command["op"] == "stats":
                reply = {
                    "wall_s": time.monotonic() - wall0,
                    "cpu_s": time.process_time() - cpu0,
                    "sent": watch.take(),
                    "pauses": gc_watch.take(),
                    "states": dict(Counter(pc.connectionState for pc in pcs)),
                }
            else:
                reply = {"error": f"unknown op {command['op']!r}"}
            sys.stdout.write(json.dumps(reply) + "\n")
            sys.stdout.flush()
    finally:
        gc_watch.close()
        await asyncio.gather(*(pc.close() for pc in pcs), return_exceptions=True)
        await film.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("film_root", type=Path, help="holds long/360p.ts")
    args = parser.parse_args()
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]
    asyncio.run(serve(args.film_root))


if __name__ == "__main__":
    main()
