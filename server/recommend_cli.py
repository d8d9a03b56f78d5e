"""``kinoroom recommend``, ``kinoroom group create`` and ``kinoroom film measure``: what a
group should watch next, from the command line, and the clips' measures it learns from."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Iterable
from pathlib import Path

from server.cli_args import OneLineParser, media_folder


def measure_clips(media_dir: Path, media_ids: Iterable[str] | None = None) -> int:
    """Measure the clips not measured yet (`server.recommend.measures`); prints a line
    per failure and a summary; returns how many failed."""
    from server.recommend.measures import measure_media

    results = measure_media(media_dir, media_ids)
    for result in results:
        if result.status == "failed":
            print(f"error measure-failed: {result.media_id}: {result.error}", file=sys.stderr)
    made = sum(r.status == "measured" for r in results)
    failed = sum(r.status == "failed" for r in results)
    print(
        f"measured {made} clip(s) for Watch next, {len(results) - made - failed} already "
        f"measured, {failed} failed",
        file=sys.stderr,
    )
    return failed


def _cmd_measure(args: argparse.Namespace) -> int:
    from mobile_bridge.media.errors import MediaError

    try:
        return 1 if measure_clips(media_folder(args.media)) else 0
    except MediaError as exc:
        print(f"error {exc.code}: {exc.message}", file=sys.stderr)
        return 1


async def _recommend(group: str, explore: bool) -> dict[str, object] | None:
    from server.persistence import Store
    from server.persistence.groups import Groups
    from server.recommend.service import Recommender
    from server.settings import Settings

    settings = Settings()
    async with await Store.open(settings.resolved_database_url()) as store:
        groups = Groups(store.engine)
        record = await groups.get(group)
        if record is None:
            return None
        found = await Recommender(store, groups, settings.resolved_media_dir()).watch_next(
            group, explore=explore
        )
        return {
            "group": found.group,
            "name": record.name,
            "screenings": found.screenings,
            "blend": found.blend,
            "picks": [
                {"story_id": p.story_id, "title": p.title, "kind": p.kind, "reason": p.reason}
                for p in found.picks
            ],
        }


def _cmd_recommend(args: argparse.Namespace) -> int:
    found = asyncio.run(_recommend(args.group, not args.no_explore))
    if found is None:
        print(f"error group-not-found: no group {args.group!r} (its id is its key)",
              file=sys.stderr)  # fmt: skip
        return 1
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    print(f"Watch next for {found['name']} ({found['screenings']} screening(s) so far):")
    picks = found["picks"]
    assert isinstance(picks, list)
    for n, pick in enumerate(picks, 1):
        label = "  [outside your habit]" if pick["kind"] == "explore" else ""
        print(f"{n}. {pick['title']} (story {pick['story_id']}){label}\n   {pick['reason']}")
    return 0


async def _create_group(name: str) -> str:
    import secrets

    from server.persistence import Store
    from server.persistence.groups import Groups
    from server.routes.groups import GROUP_ID_BYTES
    from server.settings import Settings

    async with await Store.open(Settings().resolved_database_url()) as store:
        record = await Groups(store.engine).create(secrets.token_urlsafe(GROUP_ID_BYTES), name)
        return record.id


def _cmd_group_create(args: argparse.Namespace) -> int:
    print(asyncio.run(_create_group(args.name)))
    return 0


def add_recommend_commands(
    commands: argparse._SubParsersAction[OneLineParser],
    film: argparse._SubParsersAction[OneLineParser],
) -> None:
    """Add ``recommend``, ``group create`` and ``film measure``."""
    recommend = commands.add_parser(
        "recommend", help="what a group should watch next: three picks, each with a reason"
    )
    recommend.add_argument("group", metavar="GROUP", help="the group's id (its key)")
    recommend.add_argument("--json", action="store_true", help="print the picks as JSON")
    recommend.add_argument(
        "--no-explore", action="store_true", help="leave out the pick outside the habit"
    )
    recommend.set_defaults(run=_cmd_recommend)

    group = commands.add_parser("group", help="groups that come back").add_subparsers(
        dest="group_command", required=True
    )
    create = group.add_parser("create", help="make a group; prints its id (keep it: it is its key)")
    create.add_argument("name", metavar="NAME")
    create.set_defaults(run=_cmd_group_create)

    measure = film.add_parser(
        "measure", help="measure the media folder's clips for Watch next (skips measured ones)"
    )
    measure.add_argument(
        "--media", type=Path, metavar="DIR", help="media folder (default: KINOROOM_MEDIA_DIR)"
    )
    measure.set_defaults(run=_cmd_measure)


__all__ = ["add_recommend_commands", "measure_clips"]
