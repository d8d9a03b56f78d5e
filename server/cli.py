"""The ``kinoroom`` command line.

``kinoroom story validate|simulate|schema|graph``, ``kinoroom tally``, ``kinoroom serve``,
``kinoroom worker`` and the media commands. Exit codes:
0 success, 1 the input has errors (validation errors, an invalid ballot file) or the
machine refuses a setting (a port in use, Redis down: `server.preflight`), 2 the command
was used wrongly (a bad option, ``bad-argument``; a bad ``KINOROOM_*`` value). Errors
print as one line, ``error CODE: message``, on stderr; never a traceback.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from narrative.errors import NarrativeError, StoryError
from narrative.stories import DEMO
from server.cli_args import OneLineParser, count, positive, read_file, web_url
from server.media_cli import add_media_commands
from server.network.errors import NetworkSetupError
from server.preflight import SettingError, check_settings, load_settings, writable_folder
from server.story_cli import add_import_command


def _cmd_validate(args: argparse.Namespace) -> int:
    from narrative.sources import check_source
    from server.medialib import media_finder

    media_exists = media_finder(Path(args.media)) if args.media else None
    diagnostics = []
    for path in args.files:
        diagnostics.extend(check_source(read_file(path), path, media_exists, limit=args.limit))
    if args.format == "json":
        print(json.dumps([d.to_json() for d in diagnostics], indent=2))
    else:
        for diagnostic in diagnostics:
            print(diagnostic.format())
        errors = sum(d.severity == "error" for d in diagnostics)
        warnings = sum(d.severity == "warning" for d in diagnostics)
        print(
            f"{len(args.files)} file(s): {errors} error(s), {warnings} warning(s)", file=sys.stderr
        )
    return 1 if any(d.severity == "error" for d in diagnostics) else 0


def _cmd_schema(args: argparse.Namespace) -> int:
    from narrative.story import json_schema

    print(json.dumps(json_schema(), indent=2))
    return 0


def _cmd_graph(args: argparse.Namespace) -> int:
    from narrative.diagram import to_dot, to_mermaid
    from narrative.sources import graph_of

    graph = graph_of(read_file(args.file), args.file, limit=args.limit)
    print(to_dot(graph) if args.format == "dot" else to_mermaid(graph), end="")
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    from narrative.events import Command
    from narrative.explore_history import History, record
    from narrative.policies import ExplorePolicy
    from narrative.simulation import Simulation, SimulationConfig
    from narrative.simulation_report import Report
    from narrative.sources import load_source

    path = args.file or str(DEMO)
    story = load_source(read_file(path), path)
    history: History = {}
    for screening in range(args.screenings):
        config = SimulationConfig(
            phones=args.phones, policy=args.policy, seed=args.seed + screening
        )
        # Explore learns across screenings: each one starts from what the earlier ones saw.
        policy = ExplorePolicy(history) if args.policy == "explore" else None
        simulation = Simulation(story, config, policy)
        report = Report(simulation.story, config)
        commands: list[Command] = []
        for step in simulation.run():
            commands.extend(step.commands)
            for line in report.lines(step, as_json=args.json):
                print(line, flush=True)
        for line in report.summary(as_json=args.json):
            print(line)
        history = record(history, commands)
    return 0


def _cmd_protocol_schema(args: argparse.Namespace) -> int:
    from mobile_bridge.protocol import json_schemas

    print(json.dumps(json_schemas(), indent=2))
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    overrides: dict[str, object] = {
        k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None
    }
    if args.https:
        overrides["https"] = True
    settings = load_settings(**overrides)
    check_settings(settings)  # before importing the server: a typo is answered at once
    if args.workers > 1:
        _resume_collector()  # this process only watches its workers
        from server.workers import serve_workers

        return serve_workers(settings, args.workers)
    try:
        from server.serve import serve

        serve(settings)  # resumes the collector once its services run
    finally:
        _resume_collector()  # if it stopped before that
    return 0


def _cmd_cluster_status(args: argparse.Namespace) -> int:
    import asyncio

    from server.cluster.nodes import cluster_status

    settings = load_settings()
    if not settings.redis_url:
        print("error cluster-needs-redis: KINOROOM_REDIS_URL: a cluster meets in Redis; "
              "set its URL", file=sys.stderr)  # fmt: skip
        return 1
    lines = asyncio.run(cluster_status(settings.redis_url, settings.cluster_prefix))
    failed = lines[0].startswith("error ")
    print("\n".join(lines), file=sys.stderr if failed else sys.stdout)
    return 1 if failed else 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from server.demo import run_demo

    if args.data_dir is not None:
        writable_folder(args.data_dir, "--data-dir")
    return run_demo(
        phones=args.phones,
        policy=args.policy,
        seed=args.seed,
        as_json=args.json,
        time_scale=args.time_scale,
        data_dir=args.data_dir,
        story=args.story,
    )


def _cmd_loadtest(args: argparse.Namespace) -> int:
    from server.loadtest import run_loadtest

    if args.out is not None:
        writable_folder(args.out.parent, "--out")
    _reachable(args.url)
    if args.redis_url is not None:
        _redis_answers(args.redis_url)
    return run_loadtest(
        url=args.url,
        phones=args.phones,
        duration_s=args.duration,
        procs=args.procs,
        room=args.room,
        out=args.out,
        server_pid=args.server_pid,
        redis_url=args.redis_url,
        seed=args.seed,
        as_json=args.json,
    )


def _reachable(url: str) -> None:
    """Raises `SettingError` ``server-unreachable`` unless ``url`` answers ``/healthz``."""
    import httpx

    try:
        httpx.get(f"{url}/healthz", timeout=10, trust_env=False).raise_for_status()
    except httpx.HTTPError as exc:
        reason = f"no Kinoroom answers at {url}: {exc or type(exc).__name__}"
        raise SettingError("server-unreachable", "--url", reason, exit_status=1) from None


def _redis_answers(url: str) -> None:
    """Raises `SettingError` ``redis-unreachable`` unless the Redis at ``url`` answers."""
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        with Redis.from_url(url, socket_timeout=10) as redis:
            redis.ping()
    except (RedisError, ValueError) as exc:
        reason = f"no Redis answers at {url}: {exc or type(exc).__name__}"
        raise SettingError("redis-unreachable", "--redis-url", reason, exit_status=1) from None


def _cmd_tally(args: argparse.Namespace) -> int:
    from narrative.ballot_file import tally_json

    print(json.dumps(tally_json(read_file(args.file), args.policy), indent=2))
    return 0


def _backend_specs(text: str) -> dict[str, str]:
    from genmodels.backends import parse_backends

    try:
        return parse_backends(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _cmd_worker(args: argparse.Namespace) -> int:
    settings = load_settings()
    if not settings.redis_url:
        print(
            "error worker-needs-redis: set KINOROOM_REDIS_URL to the Redis the server uses "
            "(without it the server runs fill-in jobs itself)",
            file=sys.stderr,
        )
        return 2
    from redis.exceptions import RedisError

    from genmodels.worker_main import run_worker
    from server.gen_queue import worker_config
    from server.logs import configure

    configure(settings.log_level, settings.log_format)
    config = worker_config(settings, args.device)
    try:
        return run_worker(
            settings.redis_url,
            config,
            specs=args.backends,
            concurrency=args.concurrency,
            prefix=args.prefix or settings.redis_prefix,
            claim_idle_s=args.claim_idle,
            max_deliveries=args.max_deliveries,
        )
    except RedisError as exc:
        print(f"error redis-unreachable: {exc}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    from narrative.ink_explore import DEFAULT_LIMIT as INK_LIMIT
    from narrative.policies import POLICY_NAMES

    parser = OneLineParser(
        prog="kinoroom", description="Kinoroom: group viewing of branching films."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    story = commands.add_parser("story", help="work with story files").add_subparsers(
        dest="story_command", required=True
    )
    validate = story.add_parser("validate", help="check story files; exit 1 on any error")
    validate.add_argument("files", nargs="+", metavar="FILE")
    validate.add_argument("--format", choices=("text", "json"), default="text")
    validate.add_argument("--media", metavar="DIR", help="also warn about media missing from DIR")
    validate.add_argument(
        "--limit", type=count(1), default=INK_LIMIT, metavar="N",
        help=f"an ink story: explore at most N choice points (default {INK_LIMIT})",
    )  # fmt: skip
    validate.set_defaults(run=_cmd_validate)

    schema = story.add_parser("schema", help="print the JSON Schema of the story format")
    schema.set_defaults(run=_cmd_schema)

    graph = story.add_parser("graph", help="print the story graph as Mermaid or DOT")
    graph.add_argument("file", metavar="FILE")
    graph.add_argument("--format", choices=("mermaid", "dot"), default="mermaid")
    graph.add_argument(
        "--limit", type=count(1), default=INK_LIMIT, metavar="N",
        help="an ink story: draw the choice points of at most N explored",
    )  # fmt: skip
    graph.set_defaults(run=_cmd_graph)

    add_import_command(story)

    simulate = story.add_parser("simulate", help="screen a story to simulated phones")
    simulate.add_argument(
        "file", nargs="?", metavar="FILE", help="story file (default: the bundled demo)"
    )
    simulate.add_argument("--phones", type=count(0), default=30)
    simulate.add_argument("--policy", choices=POLICY_NAMES, default="plurality")
    simulate.add_argument("--seed", type=int, default=0)
    simulate.add_argument(
        "--screenings",
        type=count(1),
        default=1,
        help="screen N times in a row (seeds S, S+1, …); explore learns from each",
    )
    simulate.add_argument("--json", action="store_true", help="one JSON object per line")
    simulate.set_defaults(run=_cmd_simulate)

    protocol = commands.add_parser("protocol", help="the phone protocol").add_subparsers(
        dest="protocol_command", required=True
    )
    protocol_schema = protocol.add_parser("schema", help="print the JSON Schema of every message")
    protocol_schema.set_defaults(run=_cmd_protocol_schema)

    serve = commands.add_parser(
        "serve", help="run the server (settings from KINOROOM_* variables; see the README)"
    )
    serve.add_argument("--host", help="listen address (KINOROOM_HOST)")
    serve.add_argument("--port", type=count(0), help="listen port (KINOROOM_PORT)")
    serve.add_argument(
        "--https",
        action="store_true",
        help="serve HTTPS and WSS (KINOROOM_HTTPS); without KINOROOM_TLS_CERT a local CA "
        "and a certificate for this machine are made in DATA_DIR/tls",
    )
    serve.add_argument(
        "--workers",
        type=count(1),
        default=1,
        help="N server processes on one port, one Kinoroom (SO_REUSEPORT; needs "
        "KINOROOM_REDIS_URL, a PostgreSQL KINOROOM_DATABASE_URL and KINOROOM_SECRET_KEY)",
    )
    serve.set_defaults(run=_cmd_serve)

    cluster = commands.add_parser("cluster", help="a Kinoroom of many processes").add_subparsers(
        dest="cluster_command", required=True
    )
    status = cluster.add_parser(
        "status", help="the nodes on KINOROOM_REDIS_URL: their rooms and sockets (heartbeats)"
    )
    status.set_defaults(run=_cmd_cluster_status)

    demo = commands.add_parser(
        "demo", help="a screening of the demo film with bot phones, server in this process"
    )
    demo.add_argument("--phones", type=count(1), default=12)
    demo.add_argument("--policy", choices=POLICY_NAMES, default="plurality")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--json", action="store_true", help="one JSON object per line")
    demo.add_argument(
        "--time-scale", type=positive, default=0.1, metavar="F", help="film durations x F"
    )
    demo.add_argument("--data-dir", type=Path, help="keep the database here (default: temp dir)")
    demo.add_argument(
        "--story", type=Path, metavar="FILE",
        help="screen this story file (YAML, JSON, .ink.json or .twee) instead of the demo",
    )  # fmt: skip
    demo.set_defaults(run=_cmd_demo)

    loadtest = commands.add_parser(
        "loadtest", help="bot phones against a running server; prints figures, writes JSON"
    )
    loadtest.add_argument(
        "--url", type=web_url, required=True, help="the server, e.g. http://127.0.0.1:8000"
    )
    loadtest.add_argument("--phones", type=count(1), required=True)
    loadtest.add_argument(
        "--duration",
        type=positive,
        default=10.0,
        metavar="S",
        help="the vote window; with --room, how long phones wait for a vote",
    )
    loadtest.add_argument("--procs", type=count(1), default=1, help="bot processes")
    loadtest.add_argument("--room", help="an existing room's code (default: create one)")
    loadtest.add_argument("--out", type=Path, default=Path("bench/results/loadtest.json"))
    loadtest.add_argument(
        "--server-pid", type=int, help="watch this server process and its workers (memory, CPU)"
    )
    loadtest.add_argument(
        "--redis-url", metavar="URL", help="a cluster's Redis: count its commands per vote"
    )
    loadtest.add_argument("--seed", type=int, default=0)
    loadtest.add_argument("--json", action="store_true", help="print the figures as JSON")
    loadtest.set_defaults(run=_cmd_loadtest)

    add_media_commands(commands)

    worker = commands.add_parser(
        "worker", help="run fill-in jobs from Redis (KINOROOM_REDIS_URL) until SIGTERM"
    )
    worker.add_argument(
        "--backends",
        type=_backend_specs,
        default="montage,text,diffusion",
        metavar="LIST",
        help="comma-separated: montage, text, diffusion, or NAME=module:Class (default: all)",
    )
    worker.add_argument(
        "--device", choices=("auto", "cpu", "cuda"), help="default KINOROOM_GEN_DEVICE"
    )
    worker.add_argument("--concurrency", type=count(1), default=1, help="jobs run at once")
    worker.add_argument("--prefix", help="Redis key prefix (default: KINOROOM_REDIS_PREFIX)")
    worker.add_argument(
        "--claim-idle",
        type=positive,
        default=5.0,
        metavar="S",
        help="take over a job its worker stopped refreshing for S seconds",
    )
    worker.add_argument(
        "--max-deliveries", type=count(1), default=3, help="tries before the dead letter"
    )
    worker.set_defaults(run=_cmd_worker)

    tally = commands.add_parser("tally", help="decide one vote from a ballots file (audit)")
    tally.add_argument("file", metavar="FILE.json")
    tally.add_argument("--policy", choices=POLICY_NAMES, required=True)
    tally.set_defaults(run=_cmd_tally)
    return parser


def _resume_collector() -> None:
    """Turn the garbage collector back on if `server.__main__` paused it. What was built
    until then lives as long as the process, so it is frozen first: the first collection
    would otherwise walk all of it (about 180,000 objects, 70 ms)."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.run is not _cmd_serve:  # serve keeps it paused while it starts
        _resume_collector()
    try:
        code: int = args.run(args)
    except StoryError as exc:
        for diagnostic in exc.diagnostics:
            print(diagnostic.format(), file=sys.stderr)
        return 1
    except NarrativeError as exc:
        print(f"error {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    except SettingError as exc:
        print(f"error {exc}", file=sys.stderr)
        return exc.exit_status
    except NetworkSetupError as exc:  # TLS, proxies, ICE, a cluster's parts
        print(exc.line(), file=sys.stderr)
        return exc.exit_status
    except BrokenPipeError:  # `kinoroom story simulate | head`: the reader has enough
        sys.stderr.close()
        return 0
    return code


if __name__ == "__main__":  # `python -m server` also pauses the collector while it imports
    sys.exit(main())
