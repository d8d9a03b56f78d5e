"""The README's examples work as printed, and its contract with CI holds."""

from __future__ import annotations

import json
import re
from pathlib import Path

from narrative.ballot_file import tally_json
from narrative.policies import POLICY_NAMES
from narrative.validate import validate_text

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def test_the_story_examples_validate_clean():
    stories = blocks("yaml")
    assert len(stories) == 2  # the story format, and generated scenes
    for story in stories:
        assert validate_text(story, "README.md") == []


def test_the_ballots_example_tallies():
    (ballots,) = blocks("json")
    json.loads(ballots)
    assert tally_json(ballots, "plurality")["winner"] == "board"
    assert tally_json(ballots, "weighted")["winner"] == "wait"  # director's cut wins the 2–2 tie
    assert tally_json(ballots, "supermajority")["winner"] == "board"


def test_every_policy_has_its_line():
    for name in POLICY_NAMES:
        assert f"| `{name}` |" in README


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci
    assert "make test" in README
    assert "make run" in README


def test_every_setting_is_documented():
    from server.settings import Settings

    for name, field in Settings.model_fields.items():
        assert f"`KINOROOM_{name.upper()}`" in README
        assert field.description and field.description in README
