"""A Kinoroom server in its own process, for tests that SIGKILL it and start it again.

    python -m tests.server.restart_server --port PORT --data-dir DIR

It runs `server.serve.serve` (what ``kinoroom serve`` runs) on 127.0.0.1 with no demo
room and a fast tick; the database is the data directory's SQLite file unless
``KINOROOM_DATABASE_URL`` says otherwise, and the token secret is generated into the
data directory, so a restart on the same directory accepts the tokens it issued before.
The banner goes to stdout, flushed, so a test can see that the services are up.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from server.serve import serve
from server.settings import Settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    settings = Settings(
        host="127.0.0.1",
        port=args.port,
        data_dir=args.data_dir,
        demo_room=False,
        tick_interval_s=0.02,
        tally_interval_s=0.05,
    )

    def out(text: str) -> None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    serve(settings, out=out)


if __name__ == "__main__":
    main()
