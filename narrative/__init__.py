"""The story core of Kinoroom, pure and deterministic.

Owns the story model and file format (YAML/JSON, JSON Schema), validation, the
expression language for conditions and variables, the `Screening` state machine
(scenes on the room clock, vote windows, decisions, adaptive variants), the consensus
policies and the running count they score from (`tally`), and the simulated screening
the CLI runs.

Must not import asyncio, sockets, clocks, logging, databases, or any other Kinoroom
package: time and chance are arguments, and the shells (``server``, ``mobile_bridge``)
do all the I/O. May import the standard library, pydantic and PyYAML.
"""

from narrative.ballots import Approval, Ballot, Cast, Pick, Ranking
from narrative.consensus import Decision, OptionInfo, Policy, Turnout, VoteContext, decide
from narrative.diagnostics import Diagnostic
from narrative.errors import (
    BallotFileError,
    ExpressionError,
    NarrativeError,
    PolicyError,
    SnapshotError,
    StoryError,
    UndefinedVariable,
)
from narrative.events import (
    AffectSample,
    Command,
    Decide,
    End,
    Ended,
    Event,
    EventRejected,
    Force,
    Join,
    Leave,
    MoodReport,
    OpenVote,
    PlayScene,
    RoomMood,
    Skip,
    Start,
    StoryFault,
    Tick,
    VoteAccepted,
    VoteCast,
    VoteRejected,
)
from narrative.ids import ChoiceId, DeviceId, OptionId, SceneId
from narrative.mood import Mood
from narrative.policies import POLICY_NAMES, policy_from_spec
from narrative.screening import Phase, Screening
from narrative.story import Choice, Option, Scene, Story, Variant, json_schema
from narrative.validate import load_story, validate_text

__all__ = [
    "POLICY_NAMES",
    "AffectSample",
    "Approval",
    "Ballot",
    "BallotFileError",
    "Cast",
    "Choice",
    "ChoiceId",
    "Command",
    "Decide",
    "Decision",
    "DeviceId",
    "Diagnostic",
    "End",
    "Ended",
    "Event",
    "EventRejected",
    "ExpressionError",
    "Force",
    "Join",
    "Leave",
    "Mood",
    "MoodReport",
    "NarrativeError",
    "OpenVote",
    "Option",
    "OptionId",
    "OptionInfo",
    "Phase",
    "Pick",
    "PlayScene",
    "Policy",
    "PolicyError",
    "Ranking",
    "RoomMood",
    "Scene",
    "SceneId",
    "Screening",
    "Skip",
    "SnapshotError",
    "Start",
    "Story",
    "StoryError",
    "StoryFault",
    "Tick",
    "Turnout",
    "UndefinedVariable",
    "Variant",
    "VoteAccepted",
    "VoteCast",
    "VoteContext",
    "VoteRejected",
    "decide",
    "json_schema",
    "load_story",
    "policy_from_spec",
    "validate_text",
]
