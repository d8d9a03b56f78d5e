"""``kinoroom ingest`` and ``kinoroom film demo|prune``: the commands that fill and
tidy the media folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from narrative.stories import DEMO
from server.cli_args import OneLineParser, count, hours, media_folder, read_file
from server.cli_args import renditions as rendition_list
from server.recommend_cli import add_recommend_commands, measure_clips


def _cmd_ingest(args: argparse.Namespace) -> int:
    from mobile_bridge.media.clipnames import story_media_ids
    from mobile_bridge.media.errors import MediaError
    from mobile_bridge.media.ingest import ingest_clips
    from mobile_bridge.media.progress import ProgressBar
    from narrative.validate import load_story

    media_ids = story_media_ids(load_story(read_file(args.story), args.story)) if args.story else []
    try:
        results = ingest_clips(
            args.clips,
            media_ids,
            media_folder(args.media, write=True),
            args.renditions,
            progress=ProgressBar,
        )
    except MediaError as exc:
        print(f"error {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    for result in results:
        if result.error is not None:
            print(f"error {result.error.code}: {result.error.message}", file=sys.stderr)
        elif result.status == "skipped":
            print(f"{result.media_id}: unchanged, skipped", file=sys.stderr)
    counts = {s: sum(r.status == s for r in results) for s in ("encoded", "skipped", "failed")}
    ingested = [r.media_id for r in results if r.status != "failed"]
    measure_failed = measure_clips(media_folder(args.media), ingested) if ingested else 0
    print(
        f"{len(results)} clip(s): {counts['encoded']} encoded, {counts['skipped']} skipped, "
        f"{counts['failed']} failed",
        file=sys.stderr,
    )
    return 1 if counts["failed"] or measure_failed else 0


def _cmd_film_demo(args: argparse.Namespace) -> int:
    import time

    from mobile_bridge.demo_film import generate_demo_film
    from mobile_bridge.media.errors import MediaError
    from narrative.validate import load_story

    path = args.story or str(DEMO)
    story = load_story(read_file(path), path)
    media_dir = media_folder(args.media, write=True)
    began = time.perf_counter()
    try:
        results = generate_demo_film(
            story, media_dir, args.renditions, jobs=args.jobs, show_progress=True
        )
    except MediaError as exc:
        print(f"error {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    measure_clips(media_dir, [r.media_id for r in results])
    made = [r for r in results if r.status == "encoded"]
    film_s = sum(r.duration_s for r in made)
    print(
        f"demo film in {media_dir}: {len(made)} clip(s) made ({film_s:.0f} s of film) in "
        f"{time.perf_counter() - began:.1f} s, {len(results) - len(made)} already there",
        file=sys.stderr,
    )
    return 0


def _cmd_film_prune(args: argparse.Namespace) -> int:
    from genmodels.retention import prune_generated
    from mobile_bridge.media.errors import MediaError
    from server.preflight import load_settings

    keep_h = args.hours if args.hours is not None else load_settings().gen_keep_hours
    media_dir = media_folder(args.media, exist=True)
    try:
        pruned = prune_generated(media_dir, keep_h * 3600, dry_run=args.dry_run)
    except MediaError as exc:
        print(f"error {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    for media_id in pruned.removed:
        print(media_id)
    verb = "would remove" if args.dry_run else "removed"
    print(
        f"{verb} {len(pruned.removed)} generated clip(s) older than {keep_h:g} h from "
        f"{media_dir} ({pruned.bytes / 1e6:.1f} MB); {pruned.kept} kept",
        file=sys.stderr,
    )
    return 0


def _media_options(parser: argparse.ArgumentParser, *, renditions: bool) -> None:
    parser.add_argument(
        "--media", type=Path, metavar="DIR", help="media folder (default: KINOROOM_MEDIA_DIR)"
    )
    if renditions:
        parser.add_argument(
            "--renditions",
            type=rendition_list,
            default="360p,720p",
            metavar="LIST",
            help="comma-separated: 360p, 720p, 1080p (default: 360p,720p)",
        )


def add_media_commands(commands: argparse._SubParsersAction[OneLineParser]) -> None:
    """Add ``ingest`` and ``film`` to the ``kinoroom`` subcommands."""
    ingest = commands.add_parser(
        "ingest", help="transcode clips once into stream renditions (MEDIA_DIR/ID/NAME.ts)"
    )
    ingest.add_argument(
        "clips",
        nargs="+",
        metavar="CLIP",
        help="a clip file, matched to the story's media id by its name, or ID=PATH",
    )
    ingest.add_argument("--story", metavar="FILE", help="the story whose media ids name the clips")
    _media_options(ingest, renditions=True)
    ingest.set_defaults(run=_cmd_ingest)

    film = commands.add_parser("film", help="the film's media").add_subparsers(
        dest="film_command", required=True
    )
    film_demo = film.add_parser(
        "demo", help="generate the demo story's film (skips clips already made)"
    )
    film_demo.add_argument("--story", metavar="FILE", help="story file (default: the bundled demo)")
    _media_options(film_demo, renditions=True)
    film_demo.add_argument("--jobs", type=count(1), help="clips made at once (default: cores)")
    film_demo.set_defaults(run=_cmd_film_demo)
    film_prune = film.add_parser(
        "prune", help="delete generated fill-in clips older than an age (prints their ids)"
    )
    _media_options(film_prune, renditions=False)
    film_prune.add_argument(
        "--hours",
        type=hours,
        metavar="H",
        help="older than this many hours (default: KINOROOM_GEN_KEEP_HOURS, 168)",
    )
    film_prune.add_argument("--dry-run", action="store_true", help="list, delete nothing")
    film_prune.set_defaults(run=_cmd_film_prune)
    add_recommend_commands(commands, film)


__all__ = ["add_media_commands"]
