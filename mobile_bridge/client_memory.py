"""What a page knows of its room: the latest of each thing the server said (pure).

A base class of `mobile_bridge.client.PhoneClient` (as `ScreeningViews` is of
`Screening`): the client's session task reads frames, and `_remember` keeps the state,
the open vote, the last decision, the tally, presence, the mood and the end, so a test
or a bot reads them between waits. A ``welcome`` after the first is the room welcoming
this page again as it is now (after a change of owner in a cluster, or missed
broadcasts): it replaces what was known.
"""

from __future__ import annotations

from typing import TypeAlias, assert_never

from mobile_bridge import protocol as wire

Incoming: TypeAlias = (
    wire.Welcome | wire.Pong | wire.State | wire.VoteOpen | wire.VoteAck
    | wire.VoteRejectedMessage | wire.Tally | wire.DecisionMessage | wire.Presence
    | wire.MoodMessage | wire.HostAck | wire.Ended | wire.Error | wire.Bye
)  # fmt: skip


class RoomMemory:
    welcome: wire.Welcome | None = None
    state: wire.State | None = None
    open_vote: wire.VoteOpen | None = None  # `vote` is the client's method that casts one
    last_decision: wire.DecisionMessage | None = None
    presence: wire.Presence | None = None
    mood: wire.MoodMessage | None = None  # the room's mood, for screen and host roles
    tally: wire.Tally | None = None
    ended: wire.Ended | None = None
    last_error: wire.Error | None = None

    def _remember(self, message: Incoming) -> None:
        match message:
            case wire.Welcome():
                self.welcome, self.state, self.open_vote = (
                    message,
                    message.state,
                    message.state.vote,
                )
            case wire.State():
                self.state, self.open_vote = message, message.vote
            case wire.VoteOpen():
                self.open_vote = message
            case wire.Tally():
                self.tally = message
            case wire.DecisionMessage():
                self.last_decision = message
                if self.open_vote is not None and self.open_vote.choice == message.choice:
                    self.open_vote = None
            case wire.Presence():
                self.presence = message
            case wire.MoodMessage():
                self.mood = message
            case wire.Ended():
                self.ended, self.open_vote = message, None
            case wire.Error():
                self.last_error = message
            case wire.VoteAck() | wire.VoteRejectedMessage() | wire.Bye() | wire.Pong():
                pass  # the session's own business
            case wire.HostAck():
                pass  # answers a wait
            case _:
                assert_never(message)


__all__ = ["Incoming", "RoomMemory"]
