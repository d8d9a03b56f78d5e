"""`kinoroom demo`: a whole screening in one process, bots in the seats, figures at the end.

The screenings run as the real `kinoroom demo` process, as a user starts it: its vote
windows are a few tenths of a second, and this test process (torch, transformers and
diffusers imported by other tests, a heap whose full garbage collection takes that long)
is no place to time them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from narrative.stories import DEMO
from narrative.validate import VOTE_MARGIN_S, load_story
from server.demo import quick_cut

SCALE = 0.02  # the bundled film in ~9 s; its vote windows ~0.3 s


def kinoroom_demo(*args: str) -> list[str]:
    """The lines `kinoroom demo ARGS` printed; fails the test on a non-zero exit."""
    kinoroom = Path(sys.executable).with_name("kinoroom")
    done = subprocess.run(
        [str(kinoroom), "demo", "--time-scale", str(SCALE), *args],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PYTHONASYNCIODEBUG": ""},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.splitlines()


def test_the_quick_cut_is_shorter_and_keeps_every_vote_clear_of_its_scene_end():
    full = load_story(DEMO.read_text(encoding="utf-8"), "demo.yaml")
    quick = load_story(quick_cut(DEMO.read_text(encoding="utf-8"), SCALE), "quick.yaml")
    assert quick.scenes.keys() == full.scenes.keys()
    assert sum(s.duration for s in quick.scenes.values()) < 0.1 * sum(
        s.duration for s in full.scenes.values()
    )
    for scene in quick.scenes.values():
        if scene.choice is not None:
            assert scene.choice.window > 0
            assert scene.choice.at + scene.choice.window <= scene.duration - VOTE_MARGIN_S


def test_the_demo_prints_each_scene_vote_and_decision_with_its_reason():
    lines = kinoroom_demo("--phones", "12", "--seed", "3")
    text = "\n".join(lines)
    decisions = [line for line in lines if "✓" in line]
    # Every path through the demo story passes its three votes (the last two are locked).
    assert len(decisions) == 3
    # The reason is the policy's own sentence; 11 of 12 vote (one bot is quiet).
    assert all("11 of 12 phones voted" in line for line in decisions), decisions
    assert text.count("? ") == 3
    assert "▶ platform" in text
    assert "■ the end (story)" in text
    assert "errors none" in text
    assert "vote ack (phone side, send to ack): p50" in text
    assert "decision to all phones (after the vote closed): p50" in text


def test_the_json_demo_prints_one_object_per_line():
    lines = kinoroom_demo("--phones", "7", "--policy", "borda", "--seed", "1", "--json")
    events = [json.loads(line) for line in lines]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "room" and kinds[-1] == "summary"
    assert kinds.count("decision") == 3 and "ended" in kinds
    for decision in (e for e in events if e["event"] == "decision"):
        assert decision["policy"] == "borda"
        assert decision["reason"] and decision["option"] in decision["tally"]
        assert (decision["voted"], decision["present"]) == (6, 7)
    summary = events[-1]
    assert summary["errors"] == {} and summary["rejected"] == {}
    assert summary["acked"] == summary["votes"] > 0
    assert summary["vote_ack_ms"]["p99"] is not None
    assert summary["decision_latency_ms"]["p99"] is not None
    assert summary["phones_decided"] and set(summary["phones_decided"].values()) == {7}
    assert summary["personas"]["camera"]["affect"] > 0
    assert summary["personas"]["quiet"]["votes"] == 0
