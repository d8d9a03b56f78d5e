"""Every command in the README's benchmark table runs, as written, and writes its JSON.

Each command runs once at ``--smoke`` size (seconds, not minutes), from the checkout's
root, in a fresh process with none of the caller's ``KINOROOM_*`` settings: a benchmark
that no longer imports, or whose measuring loop no longer fits the code it measures,
fails here instead of waiting for someone to run it by hand. The figures are not
checked (no timing asserts in tests), only that the command ends well and writes JSON.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
SCALE = float(os.environ.get("KINOROOM_TEST_TIMEOUT_SCALE", "1"))
# Started by another benchmark, never by hand.
HELPERS = {
    "fanout_media.py", "fanout_node.py", "fanout_quality.py", "fanout_ramp.py", "fanout_sink.py",
    "fanout_watch.py", "startup_floor.py",
}  # fmt: skip


def table_commands() -> list[str]:
    """The first code span of each row of the README's benchmark table."""
    section = README.split("\n## Benchmarks\n", 1)[1].split("\n## ", 1)[0]
    table = section.split("\n| command |", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"^\| `([^`]+)`", table, re.MULTILINE)


def make_recipe(target: str) -> str:
    """The one command a Makefile target runs, with ``$(BIN)`` spelled out."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(rf"^{target}:.*\n\t(.+)$", makefile, re.MULTILINE)
    assert recipe is not None, f"no recipe for make {target}"
    return recipe[1].replace("$(BIN)", ".venv/bin")


def argv(command: str) -> list[str]:
    if command.startswith("make "):
        command = make_recipe(command.removeprefix("make "))
    words = shlex.split(command)
    if words[0] == ".venv/bin/python":
        words[0] = sys.executable  # the same virtualenv, wherever the tests run it from
    return words


COMMANDS = table_commands()


def test_the_table_lists_every_benchmark_once():
    scripts = {p.name for p in (ROOT / "bench").iterdir() if p.suffix in (".py", ".sh")}
    listed = [Path(word).name for c in COMMANDS for word in argv(c) if word.startswith("bench/")]
    assert sorted(listed) == sorted(scripts - HELPERS)


def test_no_benchmark_hides_a_module():
    # A script's own folder comes first on sys.path: bench/queue.py once hid the standard
    # library's queue, and bench/affect.py the affect package.
    for path in (ROOT / "bench").glob("*.py"):
        name = path.stem
        assert name not in sys.stdlib_module_names, path.name
        assert importlib.util.find_spec(name) is None, f"{path.name} hides the module {name}"


@pytest.mark.parametrize("command", COMMANDS)
def test_a_readme_benchmark_runs_at_smoke_size(command, tmp_path):
    out = tmp_path / "result.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KINOROOM_")}
    env.pop("PYTHONASYNCIODEBUG", None)  # as a person runs it, not in the tests' debug mode
    env["HF_HUB_OFFLINE"] = "1"
    done = subprocess.run(
        [*argv(command), "--smoke", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300 * SCALE,
    )
    output = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert done.returncode == 0, output
    assert "Traceback" not in output
    result = json.loads(out.read_text(encoding="utf-8"))
    assert isinstance(result, dict) and result, output


@pytest.mark.parametrize(
    ("args", "code"),
    [(["--workers", "x"], "bad-argument"), (["--workers", "0"], "bad-argument"),
     (["--phones"], "bad-argument")],
)  # fmt: skip
def test_the_load_test_script_refuses_a_bad_argument_in_one_line(args, code):
    done = subprocess.run(
        ["bash", "bench/loadtest.sh", *args], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert done.stderr.startswith(f"error {code}: ") and done.stderr.count("\n") == 1
