"""The story core of Kinoroom, pure and deterministic.

Owns the story model and file format (YAML/JSON, JSON Schema), validation, the
expression language for conditions and variables, the `Screening` state machine
(scenes on the room clock, vote windows, decisions, adaptive variants) and the `Plot`
it walks (a story graph, or an ink story run by the ink runtime), the consensus
policies and the running count they score from (`tally`), the stories from other tools
(compiled ink screened as it is, Twee 3 converted: `narrative.sources` reads every
format), and the simulated screening the CLI runs.

Must not import asyncio, sockets, clocks, logging, databases, or any other Kinoroom
package: time and chance are arguments, and the shells (``server``, ``mobile_bridge``)
do all the I/O. May import the standard library, pydantic, PyYAML and bink (the ink
runtime, for computation only, in `narrative.ink_runtime` alone).
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
from narrative.ink_story import InkStory
from narrative.mood import Mood
from narrative.plot import Plot, Screenable
from narrative.policies import POLICY_NAMES, policy_from_spec
from narrative.screening import Phase, Screening
from narrative.sources import check_source, detect_format, load_source
from narrative.story import Choice, Option, Scene, Story, Variant, json_schema
from narrative.twee_import import import_twee
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
    "InkStory",
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
    "Plot",
    "Policy",
    "PolicyError",
    "Ranking",
    "RoomMood",
    "Scene",
    "SceneId",
    "Screenable",
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
    "check_source",
    "decide",
    "detect_format",
    "import_twee",
    "json_schema",
    "load_source",
    "load_story",
    "policy_from_spec",
    "validate_text",
]
