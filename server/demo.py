"""`kinoroom demo`: a whole screening in one process, bot phones in the seats.

The demo starts a server on 127.0.0.1 (any free port, a temporary data directory unless
one is given), uploads a quick cut of the bundled story or of a story file of any format
(`quick_cut`: every duration and vote window scaled down, nothing on the server sped up;
an ink story's is a ``# pace`` tag, `narrative.ink_story.paced`), creates a room, seats N
bot phones with mixed personas (`mobile_bridge.bots`), and has the host start. The
host page's view of the room is printed as it happens: each scene, each vote opening,
each decision with its policy's reason; at the end, the latency the phones measured.
With ``--json`` every line is one JSON object with an ``event`` field.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import yaml

from mobile_bridge import protocol as wire
from mobile_bridge.bots import BotReport, latency_figures, personas_for, run_bot
from mobile_bridge.client import Incoming, PhoneClient
from mobile_bridge.join import join_room
from mobile_bridge.reconnect import ClientError
from narrative.errors import StoryError
from narrative.ink_story import paced
from narrative.sources import detect_format
from narrative.stories import DEMO
from narrative.twee_import import import_twee
from narrative.validate import VOTE_MARGIN_S, load_story
from server.app import create_app
from server.serve import bind
from server.settings import Settings

Out = Callable[[str], object]
DEFAULT_TIME_SCALE = 0.1  # the bundled film lasts ~5 min; its demo cut ~30 s


def quick_cut(source: str, scale: float) -> str:
    """The story with every ``duration``, vote ``at`` and ``window`` times ``scale``.

    A scene that would then close its vote less than the validator's margin before its
    end is lengthened to keep the margin (the room never waits for a late decision).

    Raises:
        ValueError: ``scale`` is not positive.
        StoryError: the result does not validate (the source did not either).
    """
    if not scale > 0:
        raise ValueError(f"the time scale must be positive, not {scale}")
    data: dict[str, Any] = yaml.safe_load(source)
    for scene in data["scenes"].values():
        scene["duration"] = round(scene["duration"] * scale, 3)
        choice = scene.get("choice")
        if choice is not None:
            choice["at"] = round(choice["at"] * scale, 3)
            choice["window"] = round(choice["window"] * scale, 3)
            closes = choice["at"] + choice["window"]
            if closes > scene["duration"] - VOTE_MARGIN_S:  # the validator's own test
                scene["duration"] = round(closes + VOTE_MARGIN_S + 0.001, 3)  # float slack
    data["title"] = f"{data['title']} (quick cut)"
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    load_story(text, f"quick-cut-{scale:g}.yaml")
    return text


@contextlib.asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[str]:
    """A server in this process's loop; yields its http://127.0.0.1:PORT."""
    sock = bind(settings)
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), log_config=None, ws_max_size=64 * 1024)
    )
    task = asyncio.create_task(server.serve(sockets=[sock]), name="demo-server")
    try:
        async with asyncio.timeout(15):
            while not server.started:
                if task.done():
                    task.result()  # the server failed to start: say why
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


class Narrator:
    """Prints the host page's view as messages arrive (a `wait_for` predicate that never
    matches, so nothing is missed between two waits). Times are room-clock seconds since
    the first scene started."""

    def __init__(self, out: Out, as_json: bool) -> None:
        self._out, self._json = out, as_json
        self._origin: float | None = None
        self._scene: tuple[str | None, float | None] | None = None
        self.ended = asyncio.Event()

    def __call__(self, message: Incoming) -> bool:
        match message:
            case wire.State(phase="playing", scene=scene, starts_at=starts) if (
                scene,
                starts,
            ) != self._scene:
                self._scene = (scene, starts)
                if self._origin is None and starts is not None:
                    self._origin = starts
                length = (message.ends_at or 0.0) - (starts or 0.0)
                shows = message.media or _words(message.text.body if message.text else "")
                self._say(
                    "scene",
                    f"▶ {scene}  ({length:.1f} s, {shows})",
                    at=starts,
                    scene=scene,
                    variant=message.variant,
                    media=message.media,
                    words=message.text.body if message.text else None,
                    duration_s=round(length, 3),
                )
            case wire.VoteOpen():
                labels = " | ".join(o.label for o in message.options)
                window = message.closes_at - message.opens_at
                self._say(
                    "vote_open",
                    f'? {message.choice} [{message.policy}] "{message.prompt}"  {labels}'
                    f"  ({window:.1f} s)",
                    at=message.opens_at,
                    choice=message.choice,
                    policy=message.policy,
                    options=[o.id for o in message.options],
                    window_s=round(window, 3),
                )
            case wire.DecisionMessage():
                tally = ", ".join(f"{k} {v:g}" for k, v in message.tally.items())
                turnout = f"{message.turnout.voted}/{message.turnout.present}"
                self._say(
                    "decision",
                    f'✓ {message.choice} → {message.option} "{message.label}": {message.reason}'
                    f"  [{tally}; {turnout} voted]",
                    at=message.at,
                    choice=message.choice,
                    option=message.option,
                    label=message.label,
                    goto=message.goto,
                    policy=message.policy,
                    reason=message.reason,
                    tally=message.tally,
                    voted=message.turnout.voted,
                    present=message.turnout.present,
                )
            case wire.Ended():
                self._say(
                    "ended", f"■ the end ({message.reason})", at=message.at, why=message.reason
                )
                self.ended.set()
        return False

    def _say(self, event: str, text: str, *, at: float | None, **fields: object) -> None:
        since = None if at is None or self._origin is None else round(at - self._origin, 3)
        if self._json:
            self._out(json.dumps({"event": event, "t_s": since, **fields}))
        else:
            self._out(f"{since if since is not None else 0.0:7.2f} s  {text}")


def _words(text: str) -> str:
    words = " ".join(text.split())
    return f'"{words if len(words) <= 50 else words[:49] + "…"}"'


def demo_cut(source: str, scale: float, name: str = "story") -> tuple[str, float | None]:
    """A story of any format cut by ``scale`` (`quick_cut`), and its length in seconds
    when it is a graph (None: an ink program, whose length depends on the votes).

    Raises:
        ValueError: ``scale`` is not positive.
        StoryError: the story does not validate.
    """
    if not scale > 0:
        raise ValueError(f"the time scale must be positive, not {scale}")
    match detect_format(source):
        case "ink":
            return paced(source, scale), None
        case "twee":
            imported = import_twee(source, name)
            if imported.story is None:
                raise StoryError(name, imported.diagnostics)
            source = imported.source
    text = quick_cut(source, scale)
    return text, sum(s.duration for s in load_story(text, "quick").scenes.values())


async def _demo(
    *,
    phones: int,
    policy: str,
    seed: int,
    time_scale: float,
    data_dir: Path,
    out: Out,
    js: bool,
    story_file: Path | None = None,
) -> int:
    settings = Settings(
        host="127.0.0.1",
        port=0,
        data_dir=data_dir,
        demo_room=False,
        tick_interval_s=0.05,
        log_level="WARNING",
    )
    source = (story_file or DEMO).read_text(encoding="utf-8")
    story, length_s = demo_cut(source, time_scale, (story_file or DEMO).name)
    # A program's length depends on its votes: an hour of it, at this scale, at most.
    film_s = 60 + (length_s if length_s is not None else 3600 * time_scale)
    personas = personas_for(phones)
    async with serving(settings) as url, httpx.AsyncClient(base_url=url, trust_env=False) as http:
        upload = {"source": story, "name": (story_file or DEMO).name}
        created = await http.post("/api/stories", json=upload)
        created.raise_for_status()
        body = {"story_id": created.json()["id"], "policy": policy, "seed": seed}
        response = await http.post("/api/rooms", json=body)
        response.raise_for_status()
        room = response.json()
        code = room["code"]
        mix = ", ".join(f"{n} {p.value}" for p, n in Counter(personas).items())
        if js:
            out(json.dumps({"event": "room", "room": code, "url": url, "policy": policy,
                            "phones": phones, "personas": dict(Counter(p.value for p in personas)),
                            "time_scale": time_scale, "seed": seed}))  # fmt: skip
        else:
            out(f"Kinoroom demo: room {code} at {url}, policy {policy}, seed {seed}")
            out(f"{phones} bot phones ({mix}); the film at {time_scale:g}× its length")
        seats = await asyncio.gather(
            *(join_room(url, code, f"{p.value}-{i}", http=http) for i, p in enumerate(personas))
        )
        host = PhoneClient(url, code, room["host_token"], "host", rng=random.Random(seed))
        clients = [
            PhoneClient(url, code, s.token, rng=random.Random(seed * 7919 + i))
            for i, s in enumerate(seats)
        ]
        narrator = Narrator(out, js)
        try:
            await host.connect()
            await asyncio.gather(*(c.connect() for c in clients))
            # Every phone syncs its clock before the film starts, as a page does: the
            # welcome's one sample is off by half its round trip, which on a busy machine
            # is longer than a quick cut's whole vote window.
            await asyncio.gather(host.sync_clock(8), *(c.sync_clock(4) for c in clients))
            room_minus_wall = host.room_now() - time.time()
            watching = asyncio.create_task(host.wait_for(narrator, timeout=film_s))
            bots = [
                asyncio.create_task(
                    run_bot(
                        client,
                        persona,
                        random.Random(seed * 1_000_003 + i),
                        affect_every_s=max(0.2, 20 * time_scale),
                        timeout_s=film_s,
                    )
                )
                for i, (client, persona) in enumerate(zip(clients, personas, strict=True))
            ]
            await host.host("start")
            reports: list[BotReport] = await asyncio.gather(*bots)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    await narrator.ended.wait()
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError, ClientError):
                await watching
        finally:
            await asyncio.gather(host.close(), *(c.close() for c in clients))
    figures = latency_figures(reports, room_minus_wall=room_minus_wall)
    figures["personas"] = _by_persona(reports)
    _summary(figures, out, js)
    return 0 if narrator.ended.is_set() and not figures["errors"] else 1


def _by_persona(reports: list[BotReport]) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    for report in reports:
        row = table.setdefault(report.persona.value, {"phones": 0, "votes": 0, "affect": 0})
        row["phones"] += 1
        row["votes"] += report.votes
        row["affect"] += report.affect_sent
    return table


def _summary(figures: dict[str, object], out: Out, js: bool) -> None:
    if js:
        out(json.dumps({"event": "summary", **figures}))
        return

    def line(name: str, key: str) -> str:
        ms = figures[key]
        if not isinstance(ms, dict) or ms["p50"] is None:
            return f"{name}: none measured"
        return ", ".join(
            [f"{name}: p50 {ms['p50']} ms"] + [f"{k} {ms[k]} ms" for k in ("p95", "p99", "max")]
        )

    rejected, errors = figures["rejected"] or "none", figures["errors"] or "none"
    out(f"{figures['votes']} votes from {figures['phones']} phones, {figures['acked']} acked, "
        f"rejected {rejected}, errors {errors}")  # fmt: skip
    out(line("vote ack (phone side, send to ack)", "vote_ack_ms"))
    out(line("decision to all phones (after the vote closed)", "decision_latency_ms"))
    out(line("decision spread (after the first phone had it)", "decision_spread_ms"))


def run_demo(
    *,
    phones: int = 12,
    policy: str = "plurality",
    seed: int = 0,
    as_json: bool = False,
    time_scale: float = DEFAULT_TIME_SCALE,
    data_dir: Path | None = None,
    out: Out = print,
    story: Path | None = None,
) -> int:
    """Run the demo screening; 0 when it reached its end with no phone failing, else 1.

    Args:
        phones: bot phones (personas in turn: loyal, contrarian, random, undecided,
            late, quiet, camera).
        policy: the room's consensus policy (a story choice may name its own).
        seed: seeds the room and every bot: the same seed, the same screening.
        as_json: one JSON object per line instead of text.
        time_scale: the film's durations and vote windows times this.
        data_dir: where the server keeps its database (default: a temporary directory).
        out: where lines go.
        story: a story file of any format (`narrative.sources`) instead of the bundled demo.
    """

    async def main(directory: Path) -> int:
        return await _demo(
            phones=phones, policy=policy, seed=seed, time_scale=time_scale,
            data_dir=directory, out=out, js=as_json, story_file=story,
        )  # fmt: skip

    if data_dir is not None:
        return asyncio.run(main(data_dir))
    with tempfile.TemporaryDirectory(prefix="kinoroom-demo-") as directory:
        return asyncio.run(main(Path(directory)))


__all__ = [
    "DEFAULT_TIME_SCALE",
    "Narrator",
    "demo_cut",
    "quick_cut",
    "run_demo",
    "serving",
]
