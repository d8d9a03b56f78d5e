"""Clock-sync accuracy on loopback: how far a phone's room clock is from the server's.

Run with ``.venv/bin/python bench/clock.py [--phones N] [--samples K] [--smoke]``
(``--smoke``: 2 phones, to check that it runs): starts a server
in-process on 127.0.0.1, joins N phones, each syncs with K ping/pongs, and compares
each phone's estimate of the room clock with the room's own clock (both in this
process, so the true error is measurable). Prints the figures and writes them as JSON
(default ``bench/results/clock.json``). Target (issue "Rooms server"): error ≤ 2 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
from pathlib import Path

import uvicorn

from mobile_bridge.client import PhoneClient
from mobile_bridge.join import join_room
from server.app import create_app
from server.serve import bind
from server.settings import Settings


async def measure(phones: int, samples: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as data:
        settings = Settings(host="127.0.0.1", port=0, data_dir=Path(data))
        sock = bind(settings)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        app = create_app(settings)
        server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="on"))
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            await asyncio.sleep(0.01)
        room, _ = app.state.services.demo
        errors, bounds = [], []
        for i in range(phones):
            seat = await join_room(url, room.code, f"clock{i}")
            async with PhoneClient(url, room.code, seat.token) as phone:
                clock = await phone.sync_clock(samples=samples)
                errors.append(abs(phone.room_now() - room.clock.now()) * 1000)
                bounds.append(clock.error_bound * 1000)
        server.should_exit = True
        await task
    errors.sort()
    return {
        "benchmark": "clock",
        "phones": phones,
        "samples": samples,
        "error_ms_p50": round(statistics.median(errors), 4),
        "error_ms_p99": round(errors[min(len(errors) - 1, int(0.99 * len(errors)))], 4),
        "error_ms_max": round(errors[-1], 4),
        "error_bound_ms_median": round(statistics.median(bounds), 4),
        "target_ms": 2.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=50)
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "clock.json"
    )
    parser.add_argument("--smoke", action="store_true", help="a tiny run: does it work?")
    args = parser.parse_args()
    if args.smoke:
        args.phones, args.samples = 2, 3
    result = asyncio.run(measure(args.phones, args.samples))
    print(
        f"clock sync over loopback, {args.phones} phones x {args.samples} pings: error p50 "
        f"{result['error_ms_p50']} ms, p99 {result['error_ms_p99']} ms, "
        f"max {result['error_ms_max']} ms "
        f"(stated bound, median {result['error_bound_ms_median']} ms; target 2 ms)"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
