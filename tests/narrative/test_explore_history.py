"""The explore policy's memory across screenings."""

from __future__ import annotations

import json

import pytest

from narrative.consensus import Turnout
from narrative.events import Decide, MoodReport, PlayScene
from narrative.explore_history import record
from narrative.policies import ArmStats


def decide(choice, option, goto, at):
    return Decide(choice, option, goto, (), "explore", "", Turnout(1, 1), at)


def mood(scene, engagement, viewers, at):
    return MoodReport(scene, 0.0, 0.0, engagement, viewers, viewers, at)


def play(scene, at):
    return PlayScene(scene, None, scene, 0.0, at, at + 10)


def test_a_decision_is_rewarded_with_the_engagement_of_the_branch_it_chose():
    commands = [
        play("hall", 0),
        decide("hall", "door", "garden", 5),
        mood("hall", 0.1, 3, 10),  # the scene the vote was in: not the branch's reward
        play("garden", 10),
        mood("garden", 0.8, 3, 20),
    ]
    assert record({}, commands) == {"hall": {"door": ArmStats(1, 0.8)}}


def test_history_accumulates_and_the_input_is_left_alone():
    before = {"hall": {"door": ArmStats(2, 1.0)}}
    after = record(
        before,
        [decide("hall", "door", "garden", 5), play("garden", 10), mood("garden", 0.5, 1, 20)],
    )
    assert after["hall"]["door"] == ArmStats(3, 1.5)
    assert before == {"hall": {"door": ArmStats(2, 1.0)}}


def test_a_branch_nobody_filmed_teaches_nothing():
    commands = [decide("hall", "door", "garden", 5), play("garden", 10), mood("garden", 0.0, 0, 20)]
    assert record({}, commands) == {}


def test_a_choice_that_loops_back_to_its_own_scene_is_credited_to_the_next_visit():
    commands = [
        play("hall", 0),
        decide("hall", "again", "hall", 5),
        mood("hall", 0.2, 2, 10),  # first visit ends
        play("hall", 10),
        mood("hall", 0.9, 2, 20),  # the visit the decision chose
    ]
    assert record({}, commands)["hall"]["again"].reward == pytest.approx(0.9)


def test_tracker_snapshot_resumes_mid_branch():
    from narrative.explore_history import ArmTracker, Reward

    tracker = ArmTracker()
    tracker.feed(decide("hall", "door", "garden", 5))
    tracker.feed(play("garden", 10))
    resumed = ArmTracker.from_json(json.loads(json.dumps(tracker.to_json())))
    assert resumed.feed(mood("garden", 0.7, 2, 20)) == Reward("hall", "door", 0.7)
