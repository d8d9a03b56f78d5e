"""``kinoroom story import``: a Twine story (Twee 3) into a Kinoroom story file.

The other ``kinoroom story`` commands read every format themselves (`narrative.sources`);
this one writes the YAML a Twee file converts to, so a writer can go on in Kinoroom's
format. Every warning and error is printed at its Twee line; the file is written even
when the story has errors (they are easier to fix in the YAML), and the exit status is
then 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from server.cli_args import OneLineParser, read_file


def _cmd_import(args: argparse.Namespace) -> int:
    from narrative.twee import looks_like_twee
    from narrative.twee_import import import_twee

    text = read_file(args.file)
    if not looks_like_twee(text):
        print(
            f"error not-twee: {args.file} has no Twee passage header (a line starting '::'); "
            "ink stories are screened as they are (.ink.json), not imported",
            file=sys.stderr,
        )
        return 1
    result = import_twee(text, args.file)
    for diagnostic in result.diagnostics:
        print(diagnostic.format(), file=sys.stderr)
    if args.output is None:
        sys.stdout.write(result.source)
    else:
        try:
            Path(args.output).write_text(result.source, encoding="utf-8")
        except OSError as exc:
            raise SystemExit(f"error io: cannot write {args.output}: {exc.strerror}") from exc
        print(f"wrote {args.output}", file=sys.stderr)
    return 1 if any(d.severity == "error" for d in result.diagnostics) else 0


def add_import_command(story: argparse._SubParsersAction[OneLineParser]) -> None:
    command = story.add_parser(
        "import", help="convert a Twine story (Twee 3) into a Kinoroom story file (YAML)"
    )
    command.add_argument("file", metavar="FILE.twee")
    command.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")
    command.set_defaults(run=_cmd_import)


__all__ = ["add_import_command"]
