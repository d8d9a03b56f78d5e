"""The `kinoroom` command line, as a user runs it."""

from __future__ import annotations

import gc
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from narrative.stories import DEMO
from server.cli import main

BROKEN = """\
kinoroom: 1
title: Broken
start: a
scenes:
  a:
    media: a
    duration: 10
    next: nowhere
  b: {media: b, duration: 5, ending: true}
"""


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_demo_is_clean(capsys):
    code, out, err = run(capsys, "story", "validate", str(DEMO))
    assert code == 0
    assert out == ""
    assert "0 error(s), 0 warning(s)" in err


def test_validate_reports_position_and_code_and_exits_1(capsys, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)
    code, out, _ = run(capsys, "story", "validate", str(path))
    assert code == 1
    assert f"{path}:8:11: error unknown-target: " in out
    code, out, _ = run(capsys, "story", "validate", "--format", "json", str(path), str(DEMO))
    assert code == 1
    items = json.loads(out)
    assert [i["code"] for i in items] == ["unknown-target", "unreachable"]
    assert items[0] == {
        "file": str(path),
        "line": 8,
        "col": 11,
        "severity": "error",
        "code": "unknown-target",
        "message": items[0]["message"],
    }


def test_validate_missing_file_is_a_clear_error(capsys, tmp_path):
    with pytest.raises(SystemExit) as info:
        main(["story", "validate", str(tmp_path / "nope.yaml")])
    assert "error io: cannot read" in str(info.value.code)


def test_schema_is_json_schema_of_the_story(capsys):
    code, out, _ = run(capsys, "story", "schema")
    schema = json.loads(out)
    assert code == 0
    assert schema["$schema"].endswith("2020-12/schema")
    assert {"kinoroom", "title", "start", "scenes"} <= set(schema["required"])
    assert "Choice" in schema["$defs"]


@pytest.mark.parametrize(("fmt", "marker"), [("mermaid", "flowchart TD"), ("dot", "digraph")])
def test_graph_draws_every_scene(capsys, fmt, marker):
    code, out, _ = run(capsys, "story", "graph", "--format", fmt, str(DEMO))
    assert code == 0
    assert out.startswith(marker)
    for scene in ("platform", "dining_car", "arrival"):
        assert scene in out


def test_graph_of_a_broken_story_prints_its_diagnostics(capsys, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)
    code, out, err = run(capsys, "story", "graph", str(path))
    assert code == 1
    assert out == ""
    assert "unknown-target" in err


def test_simulate_prints_scenes_votes_decisions_and_the_end(capsys):
    code, out, _ = run(capsys, "story", "simulate", "--phones", "30", "--seed", "4")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith('Kinoroom simulation: "The Night Train to Lindholm", 30 phones')
    assert any("> platform" in line for line in lines)
    assert any("vote:" in line for line in lines)
    assert any("decided:" in line for line in lines)
    assert any("phones voted." in line for line in lines)
    assert any("ended (story) at arrival" in line for line in lines)
    assert "ballots accepted" in lines[-1]
    # Same seed, same screening.
    assert run(capsys, "story", "simulate", "--phones", "30", "--seed", "4")[1] == out


@pytest.mark.parametrize("policy", ["borda", "approval", "supermajority", "mood", "explore"])
def test_simulate_json_follows_every_policy_to_the_shared_ending(capsys, policy):
    code, out, _ = run(capsys, "story", "simulate", "--policy", policy, "--phones", "40", "--json")
    assert code == 0
    items = [json.loads(line) for line in out.splitlines()]
    decisions = [i for i in items if i["type"] == "Decide"]
    assert decisions
    assert all(d["policy"] in {policy, "borda"} for d in decisions)  # demo pins one choice to borda
    assert items[-2] == {
        "type": "Ended",
        "scene": "arrival",
        "reason": "story",
        "at": items[-2]["at"],
    }
    assert items[-1]["type"] == "Summary"
    assert items[-1]["votes_accepted"] > 0


def test_tally_decides_a_ballots_file(capsys, tmp_path):
    path = tmp_path / "ballots.json"
    path.write_text(
        json.dumps(
            {
                "options": ["board", {"id": "wait", "label": "Wait"}],
                "default": "wait",
                "ballots": [
                    {"device": "p1", "option": "board"},
                    {"device": "p2", "option": "board"},
                    {"device": "p3", "option": "wait"},
                ],
            }
        )
    )
    code, out, _ = run(capsys, "tally", "--policy", "plurality", str(path))
    result = json.loads(out)
    assert code == 0
    assert result["winner"] == "board"
    assert result["scores"] == {"board": 2, "wait": 1}
    assert "3 of 3 phones voted" in result["reason"]


def test_tally_bad_file_gets_a_stable_code(capsys, tmp_path):
    path = tmp_path / "ballots.json"
    path.write_text('{"options": ["a", "b"], "default": "c", "ballots": []}')
    code, out, err = run(capsys, "tally", "--policy", "plurality", str(path))
    assert code == 1
    assert out == ""
    assert err.startswith("error bad-default:")


def test_console_script_is_installed():
    exe = shutil.which("kinoroom", path=str(Path(sys.executable).parent))
    assert exe is not None
    done = subprocess.run(
        [exe, "story", "validate", str(DEMO)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_python_dash_m_server_is_the_same_command_line():
    done = subprocess.run(
        [sys.executable, "-m", "server", "story", "validate", str(DEMO)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "0 error(s)" in done.stderr


def test_a_command_runs_with_the_garbage_collector_on(capsys):
    # `server.__main__` pauses the collector while the command line imports; every
    # command but `serve` (which turns it on once its services run) gets it back, with
    # what was imported frozen.
    frozen = gc.get_freeze_count()
    gc.disable()
    try:
        code, out, _ = run(capsys, "story", "schema")
        assert code == 0 and json.loads(out)
        assert gc.isenabled()
        assert gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()  # this test process goes on: let the collector see it all again
        gc.enable()


def test_validate_with_media_dir_warns_about_missing_clips(capsys, tmp_path):
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "01-platform.ts").write_bytes(b"")
    code, out, _ = run(capsys, "story", "validate", "--media", str(tmp_path), str(DEMO))
    assert code == 0  # warnings only
    warned = [line for line in out.splitlines() if "warning missing-media" in line]
    assert warned
    assert not any("demo/01-platform'" in line for line in warned)
    assert any("demo/02-compartment" in line for line in warned)


def test_media_names_cannot_escape_the_media_dir(tmp_path):
    from server.medialib import media_finder

    (tmp_path / "media").mkdir()
    (tmp_path / "secret.ts").write_bytes(b"")
    exists = media_finder(tmp_path / "media")
    assert not exists("../secret.ts")
    assert not exists("../secret")


def test_simulate_several_screenings_lets_explore_learn(capsys):
    code, out, _ = run(
        capsys, "story", "simulate", "--policy", "explore", "--screenings", "4", "--phones", "12"
    )
    assert code == 0
    summaries = [line for line in out.splitlines() if "ballots accepted" in line]
    assert len(summaries) == 4
    assert "played" in out and "before, mean engagement" in out  # later rooms use the history


@pytest.mark.parametrize("argv", [["--phones", "-3"], ["--screenings", "0"], ["--phones", "many"]])
def test_simulate_refuses_nonsense_counts(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(["story", "simulate", *argv])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "must be at least" in err or "not a whole number" in err
