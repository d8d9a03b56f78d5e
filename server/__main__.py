"""``kinoroom`` and ``python -m server``: the command line, imported with the collector paused.

Importing the server builds about 180,000 objects that live as long as the process
(classes, validators, SQL constructs, the routes). Python's cyclic garbage collector,
left on, walks them again and again while they are being built: about 0.1 s of a
``kinoroom serve`` start (`bench/startup.py`), for no garbage. So the collector waits
until the command line is imported: `server.cli.main` turns it back on before a command
runs, except ``kinoroom serve``, which starts with it paused and turns it on once its
services run (`server.serve`). Either way what was built until then is frozen
(``gc.freeze``): it lives as long as the process, and is never walked again.
"""

from __future__ import annotations

import gc
import sys


def main() -> int:
    gc.disable()
    from server.cli import main as run  # turns the collector back on

    return run()


if __name__ == "__main__":
    sys.exit(main())
