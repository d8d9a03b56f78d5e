"""What pages are told: screening commands and state turned into protocol messages.

Pure functions of the story and the screening; the Room decides who receives them.
"""

from __future__ import annotations

from mobile_bridge.protocol import (
    BallotKind,
    DecisionMessage,
    GeneratedView,
    OptionView,
    State,
    TextView,
    Turnout,
    VoteOpen,
)
from narrative.events import Decide, OpenVote, PlayScene
from narrative.plot import Plot
from narrative.screening import Screening

_BALLOT_KIND: dict[str, BallotKind] = {"borda": "ranking", "approval": "approve"}


def ballot_kind(policy: str) -> BallotKind:
    """The ballot a policy counts: a ranking for Borda, approvals for approval, else one pick."""
    return _BALLOT_KIND.get(policy, "option")


def vote_open_view(story: Plot, screening: Screening, vote: OpenVote) -> VoteOpen:
    choice = story.scene(vote.choice).choice
    assert choice is not None
    labels = {o.id: o.label for o in choice.options}
    policy = screening.policy_for(vote.choice).name
    return VoteOpen(
        choice=vote.choice,
        prompt=choice.prompt,
        options=[OptionView(id=o, label=labels[o]) for o in vote.options],
        ballot=ballot_kind(policy),
        policy=policy,
        opens_at=vote.opens_at,
        closes_at=vote.closes_at,
    )


def state_view(story: Plot, screening: Screening, playing: PlayScene | None = None) -> State:
    playing = playing or screening.now_playing
    vote = screening.open_vote
    return State(
        phase=screening.phase.value,
        scene=playing.scene if playing else None,
        variant=playing.variant if playing else None,
        media=playing.media if playing else None,
        music_gain_db=playing.music_gain_db if playing else 0.0,
        starts_at=playing.starts_at if playing else None,
        ends_at=playing.ends_at if playing else None,
        vote=vote_open_view(story, screening, vote) if vote else None,
        generated=_generated_view(story, playing),
        text=_text_view(story, playing),
    )


def _text_view(story: Plot, playing: PlayScene | None) -> TextView | None:
    """The words on screen go with the state, as the clip's name does: every page gets them
    at the scene change and on a resync, in the story's colours (no per-phone rendering)."""
    if playing is None or playing.text is None:
        return None
    look = story.look()
    return TextView(body=playing.text, background=look.background, colour=look.colour)


def _generated_view(story: Plot, playing: PlayScene | None) -> GeneratedView | None:
    if playing is None or playing.generated is None:
        return None
    spec = story.scene(playing.scene).generate
    assert spec is not None  # the screening takes fill-ins for generate scenes only
    return GeneratedView(asset=playing.generated, backend=spec.backend)


def decision_view(story: Plot, decide: Decide) -> DecisionMessage:
    choice = story.scene(decide.choice).choice
    assert choice is not None
    label = next(o.label for o in choice.options if o.id == decide.option)
    return DecisionMessage(
        choice=decide.choice,
        option=decide.option,
        label=label,
        goto=decide.goto,
        reason=decide.reason,
        policy=decide.policy,
        tally=dict(decide.tally),
        turnout=Turnout(voted=decide.turnout.voted, present=decide.turnout.present),
        at=decide.at,
    )


__all__ = ["ballot_kind", "decision_view", "state_view", "vote_open_view"]
