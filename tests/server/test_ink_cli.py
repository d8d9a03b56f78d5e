"""`kinoroom story validate|graph|simulate|import` and `kinoroom demo` on ink and Twee."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from narrative.sources import load_source
from narrative.stories import LAMPLIGHTER
from server.cli import main
from tests.narrative.ink_stories import CORPUS

TWEE = Path(__file__).parents[1] / "narrative" / "twee"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_an_ink_story_reports_ink_paths_and_coverage(capsys):
    code, out, err = run(capsys, "story", "validate", str(CORPUS / "six_choices.ink.json"))
    assert code == 1
    assert "six_choices.ink.json:0." in out and "error options-count" in out
    assert "info coverage: explored 1 choice point(s), every path to its end" in out
    assert "1 error(s), 0 warning(s)" in err
    code, out, _ = run(capsys, "story", "validate", str(LAMPLIGHTER), "--limit", "10")
    assert code == 0
    assert "stopped at the limit of 10 choice points" in out


def test_validate_json_keeps_the_ink_path(capsys):
    file = str(CORPUS / "dead_end.ink.json")
    code, out, _ = run(capsys, "story", "validate", "--format", "json", file)
    assert code == 1
    [dead_end] = [d for d in json.loads(out) if d["code"] == "dead-end"]
    assert dead_end["path"] == "0.c-0.0" and dead_end["severity"] == "error"


def test_validate_a_twee_file_at_its_lines(capsys):
    code, out, _ = run(capsys, "story", "validate", str(TWEE / "macros.twee"))
    assert code == 0  # warnings only: every macro named at its line
    assert "macros.twee:7:1: warning twine-macro: Kinoroom cannot run <<set $brave to true>>" in out


def test_import_writes_yaml_that_validates(capsys, tmp_path):
    out_file = tmp_path / "lighthouse.yaml"
    code, out, err = run(
        capsys, "story", "import", str(TWEE / "lighthouse.twee"), "-o", str(out_file)
    )
    assert code == 0 and out == ""
    assert "lighthouse.twee:33:1: warning twine-special" in err
    assert f"wrote {out_file}" in err
    story = load_source(out_file.read_text(encoding="utf-8"), str(out_file))
    assert story.title == "The Lighthouse"
    code, _, err = run(capsys, "story", "validate", str(out_file))
    assert code == 0 and "0 error(s), 0 warning(s)" in err
    code, out, _ = run(capsys, "story", "import", str(TWEE / "lighthouse.twee"))
    assert out.startswith("# Imported from")  # no -o: to stdout


def test_import_refuses_what_is_not_twee(capsys):
    code, _, err = run(capsys, "story", "import", str(LAMPLIGHTER))
    assert code == 1
    assert err.startswith("error not-twee:")


def test_graph_and_simulate_an_ink_story(capsys):
    code, out, _ = run(
        capsys, "story", "graph", str(CORPUS / "features.ink.json"), "--format", "dot"
    )
    assert code == 0 and out.startswith('digraph "Features"')
    assert '"hall.0" -> "cellar.0.2" [label="Unlock the cellar"' in out
    code, out, _ = run(capsys, "story", "simulate", str(LAMPLIGHTER), "--phones", "5")
    assert code == 0
    lines = out.splitlines()
    assert (
        lines[0]
        == 'Kinoroom simulation: "The Last Lamplighter", 5 phones, policy plurality, seed 0'
    )
    assert '> t0-0: "Tonight the city switches to electric light.' in out
    assert "decided:" in out


def test_the_demo_screens_an_ink_story_file_to_bot_phones():
    kinoroom = Path(sys.executable).with_name("kinoroom")
    done = subprocess.run(
        [str(kinoroom), "demo", "--story", str(LAMPLIGHTER), "--time-scale", "0.02",
         "--phones", "6", "--seed", "2"],
        capture_output=True, text=True, timeout=180, check=False,
        env={**os.environ, "PYTHONASYNCIODEBUG": ""},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    text = done.stdout
    decisions = [line for line in text.splitlines() if "✓" in line]
    assert decisions, text
    assert all("5 of 6 phones voted" in line for line in decisions), decisions  # one is quiet
    assert "▶ t0-0" in text and '"Tonight the city switches' in text
    assert "■ the end (story)" in text
    assert "errors none" in text
