"""The Screening state machine: one room's path through a story, on the room clock.

Theory of operation. A screening consumes events (`narrative.events`) and returns
commands; `handle()` is the only method that changes state, and nothing here reads a
clock, a socket or the environment. Every event carries the room-clock time, and before
the event itself is applied the screening *advances* to that time: whatever was due
(a vote opening, a vote closing, a scene ending) happens first, at the exact instant it
was due, not at the instant the event arrived. A `Tick(now)` is just an event with
nothing else to apply, so a shell that ticks coarsely still gets exact times.

The film never pauses: scene N+1 starts at exactly ``starts_at + duration`` of scene N,
whenever the shell noticed. Within a scene with a choice, time runs::

    starts_at ──── opens_at = starts_at + at ──── closes_at = opens_at + window ──── ends_at
                   OpenVote                       Decide (policy)                    PlayScene(next)

The validator guarantees ``closes_at ≤ ends_at − 1``, which leaves the film track a
second to fetch the chosen branch's first keyframes. The host may `Force` an option
(the vote closes with the host's pick), `Skip` the rest of a scene (an open vote is
decided now from the ballots so far; one not yet open takes the director's cut), or
`End` the screening.

Votes: one live ballot per device per choice; a later ``seq`` replaces the earlier, an
equal or lower one is `stale-seq` (but the very same ballot resent with the same seq,
after a lost ack, is acknowledged again and changes nothing); a ballot cast at or after
``closes_at`` is `window-closed`, even if no tick has closed the window yet. Departed
phones keep the ballot they cast.

Votes in flight at the close. A phone's owner who tapped before ``closes_at`` should not
lose the vote to the network, so the decision waits ``grace_s`` past the close
(``decide_at``, never past the scene's end) and a ballot *cast* before the close that
*arrives* by then still counts. When it was cast is the shell's bounded claim
(`VoteCast.cast_at`); here it is clamped into ``[now − grace_s, now]``, so no claim buys
more than the grace. Without a claim a ballot counts by its arrival, as before.

Refusals are commands (`VoteRejected`, `EventRejected`), never exceptions; exceptions
mean the caller broke the API (e.g. `restore` of another story).

State lives in `ScreeningState` (`narrative.screening_state`), which also owns the
JSON snapshot: ``Screening.restore(story, s.snapshot())`` continues exactly where ``s``
was, random generator included.

What plays comes from a `Plot` (`narrative.plot`): a story graph answers from its file,
an ink program from its runtime, which the snapshot carries along ("plot").
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import assert_never

from narrative.ballots import Approval, Ballot, Pick, Ranking, ballot_options
from narrative.consensus import Policy, decide
from narrative.errors import ExpressionError
from narrative.events import (
    Command,
    Decide,
    End,
    Ended,
    Event,
    EventRejected,
    EventRejectionCode,
    FillIn,
    Force,
    Join,
    Leave,
    MoodReport,
    OpenVote,
    RoomMood,
    Skip,
    Start,
    StoryFault,
    Tick,
    VoteAccepted,
    VoteCast,
    VoteRejected,
)
from narrative.expressions import Value, parse
from narrative.ids import ChoiceId, OptionId, SceneId
from narrative.mood import Mood, clamp
from narrative.plot import Plot, Screenable
from narrative.policies import policy_from_spec
from narrative.screening_state import Ballots, Phase, ScreeningState, VoteState
from narrative.screening_views import ScreeningViews
from narrative.story import Option, Scene

Source = bool | int | float | str  # an expression as the story file holds it


class Screening(ScreeningViews):
    """One room's screening of ``story`` under the consensus ``policy``.

    Args:
        story: a validated story (`narrative.sources.load_source`): a graph, or an ink
            story, which starts a run of its own (`Screenable.plot`).
        policy: the room's policy, used where a choice names none.
        seed: seeds the generator the explore policy draws from, and the story's own
            chance (ink's RANDOM and shuffles).
        grace_s: how long after a vote's close a ballot cast before it may still arrive
            (see "Votes in flight at the close").
    """

    def __init__(
        self, story: Screenable, policy: Policy, seed: int = 0, grace_s: float = 0.0
    ) -> None:
        if not 0.0 <= grace_s < math.inf:
            raise ValueError(f"grace_s must be a finite number >= 0, got {grace_s!r}")
        self.story: Plot = story.plot(seed)
        self.policy = policy
        self.grace_s = grace_s
        self._rng = random.Random(seed)
        self._choice_policies: dict[str, Policy] = {}
        self._state = ScreeningState(variables=dict(self.story.variables))

    # -- public API -------------------------------------------------------------------

    def handle(self, event: Event) -> list[Command]:
        """Apply one event; returns the commands it caused, in time order."""
        out: list[Command] = []
        if not isinstance(event, Start):
            self._advance(event.now, out)
        match event:
            case Start(now=now):
                self._on_start(now, out)
            case Tick():
                pass
            case Join(device=device, weight=weight):
                self._state.devices[device] = weight
            case Leave(device=device):
                self._state.devices.pop(device, None)
            case VoteCast():
                out.append(self._on_vote(event))
            case RoomMood():
                self._on_room_mood(event)
            case FillIn():
                self._on_fill_in(event, out)
            case Skip(now=now):
                self._on_skip(now, out)
            case Force(option=option, now=now):
                self._on_force(option, now, out)
            case End(now=now):
                if self._state.phase is Phase.ENDED:
                    out.append(EventRejected("End", "ended", now))
                else:
                    self._finish(now, "host", out)
            case _:
                assert_never(event)
        return out

    def snapshot(self) -> dict[str, object]:
        """The whole state as JSON-ready data (see `restore`)."""
        data = self._state.to_json(
            story_digest=self.story.digest(),
            policy=self.policy.spec(),
            rng=self._rng.getstate(),
            grace_s=self.grace_s,
        )
        plot = self.story.plot_state()
        if plot is not None:
            data["plot"] = plot
        return data

    @classmethod
    def restore(cls, story: Screenable, data: Mapping[str, object]) -> Screening:
        """Rebuild a screening from `snapshot` data; it continues exactly as the original.

        Raises:
            SnapshotError: malformed data, or a snapshot of another story.
        """
        state, policy_spec, rng_state, grace_s = ScreeningState.from_json(
            data, story_digest=story.digest()
        )
        screening = cls(story, policy_from_spec(policy_spec), grace_s=grace_s)
        screening._state = state
        screening._rng.setstate(rng_state)
        screening.story.load_plot_state(data.get("plot"))
        vote = state.vote
        if vote is not None and vote.opened and vote.decided is None and vote.draw is None:
            # A version 4 snapshot drew at the decision; nothing draws between now and
            # then, so drawing now gives the very numbers it would have.
            vote.draw = screening._draw(vote, vote.opens_at)
        return screening

    # -- time -------------------------------------------------------------------------

    def _advance(self, now: float, out: list[Command]) -> None:
        """Run everything due at or before ``now``, each at its own instant."""
        state = self._state
        while state.phase is Phase.PLAYING:
            vote = state.vote
            if vote and vote.decided is None and not vote.opened and now >= vote.opens_at:
                self._open_vote(vote, out)
            elif vote and vote.decided is None and vote.opened and now >= vote.decide_at:
                self._decide(vote, vote.decide_at, out, forced=None, prefix="")
            elif now >= state.ends_at:
                self._end_scene(state.ends_at, out)
            else:
                return

    def _on_start(self, now: float, out: list[Command]) -> None:
        if self._state.phase is not Phase.WAITING:
            out.append(EventRejected("Start", "already-started", now))
            return
        self._state.phase = Phase.PLAYING
        self._play(SceneId(self.story.start), now, out)
        self._advance(now, out)

    def _play(self, scene_id: SceneId, starts_at: float, out: list[Command]) -> None:
        state = self._state
        faults = self.story.enter(scene_id)  # a program commits to the branch taken
        scene = self.story.scene(scene_id)
        state.scene = scene_id
        state.starts_at = starts_at
        state.ends_at = starts_at + scene.duration
        state.path.append(scene_id)
        state.scene_mood.start(starts_at, state.room_mood)
        for name, source in scene.set.items():
            self._assign(name, source, starts_at, out)
        state.variant = self._pick_variant(scene, starts_at, out)
        # A fill-in is for the boundary it was made for: the scene starting now uses its
        # own, and the others (the options not chosen) are dropped.
        state.generated = state.fill_ins.get(scene_id)
        state.fill_ins.clear()
        playing = self.now_playing
        assert playing is not None
        out.extend(StoryFault(scene_id, message, starts_at) for message in faults)
        out.append(playing)
        state.next_scene = SceneId(scene.next) if scene.next else None
        state.vote = None
        if scene.choice is not None:
            opens_at = starts_at + scene.choice.at
            closes_at = opens_at + scene.choice.window
            decide_at = max(closes_at, min(closes_at + self.grace_s, state.ends_at))
            state.vote = VoteState(ChoiceId(scene_id), opens_at, closes_at, decide_at)

    def _end_scene(self, at: float, out: list[Command]) -> None:
        state = self._state
        assert state.scene is not None
        vote = state.vote
        if vote is not None and vote.decided is None:
            # Only reachable with an unvalidated story (window past the scene's end) or a
            # skip: the vote still decides before the next scene is chosen.
            if not vote.opened:
                self._open_vote(vote, out)
            self._decide(vote, at, out, forced=None, prefix="")
        out.append(self._mood_report(state.scene, at))
        if self.story.scene(state.scene).ending:
            self._finish(at, "story", out)
        elif state.next_scene is not None:
            self._play(state.next_scene, at, out)
        else:  # a dead end in an unvalidated story: stop rather than stall
            self._finish(at, "story", out)

    def _finish(self, at: float, reason: str, out: list[Command]) -> None:
        state = self._state
        if reason == "host" and state.phase is Phase.PLAYING and state.scene is not None:
            out.append(self._mood_report(state.scene, at))
        state.phase = Phase.ENDED
        state.vote = None
        out.append(Ended(state.scene, "host" if reason == "host" else "story", at))

    # -- votes ------------------------------------------------------------------------

    def _choice_options(self) -> list[Option]:
        assert self._state.scene is not None
        choice = self.story.scene(self._state.scene).choice
        assert choice is not None
        return list(choice.options)

    def _open_vote(self, vote: VoteState, out: list[Command]) -> None:
        vote.open(self._visible_options(vote.opens_at, out))
        vote.draw = self._draw(vote, vote.opens_at)  # the live tally and the decision share it
        out.append(OpenVote(vote.choice, vote.options, vote.opens_at, vote.closes_at))

    def _visible_options(self, at: float, out: list[Command]) -> tuple[OptionId, ...]:
        options = self._choice_options()
        visible = tuple(
            OptionId(o.id)
            for o in options
            if o.if_ is None or self._condition(o.if_, at, out) is True
        )
        if visible:
            return visible
        # Every condition false: the director's cut is always on offer.
        assert self._state.scene is not None
        choice = self.story.scene(self._state.scene).choice
        assert choice is not None
        return (OptionId(choice.default),)

    def _draw(self, vote: VoteState, at: float) -> tuple[float, ...]:
        return self.policy_for(vote.choice).draw(self._vote_context(vote, at), self._rng)

    def _on_vote(self, event: VoteCast) -> VoteAccepted | VoteRejected:
        state = self._state

        def reject(code: str) -> VoteRejected:
            return VoteRejected(event.device, event.choice, event.seq, code, event.now)  # type: ignore[arg-type]

        vote = state.vote
        if vote is None or vote.choice != event.choice:
            return reject("window-closed" if event.choice in state.decided else "not-open")
        cast_at = event.now if event.cast_at is None else event.cast_at
        cast_at = min(event.now, max(event.now - self.grace_s, cast_at))
        if vote.decided is not None or cast_at >= vote.closes_at:
            return reject("window-closed")
        if not vote.opened:
            return reject("not-open")
        if event.device not in state.devices:
            return reject("unknown-device")
        if not _well_formed(event.ballot) or not self.policy_for(vote.choice).accepts(event.ballot):
            return reject("bad-ballot")
        if any(option not in vote.options for option in ballot_options(event.ballot)):
            return reject("unknown-option")
        previous = vote.ballots.get(event.device)
        if previous is not None and event.seq == previous.seq and event.ballot == previous.ballot:
            # The same ballot sent again (a phone that lost the ack resends after a
            # reconnect): acknowledge it again, change nothing.
            return VoteAccepted(event.device, event.choice, event.seq, False, event.now)
        if previous is not None and event.seq <= previous.seq:
            return reject("stale-seq")
        vote.cast(event.device, Ballots(event.seq, event.ballot, state.devices[event.device]))
        return VoteAccepted(event.device, event.choice, event.seq, previous is not None, event.now)

    def _decide(
        self,
        vote: VoteState,
        at: float,
        out: list[Command],
        *,
        forced: OptionId | None,
        prefix: str,
    ) -> None:
        state = self._state
        choice = self.story.scene(vote.choice).choice
        assert choice is not None
        by_id = {o.id: o for o in choice.options}
        ctx = self._vote_context(vote, at)
        policy = self.policy_for(vote.choice)
        # A vote opened by a skip, or restored from a version 4 snapshot, has no draw yet.
        decision = decide(policy, ctx, self._rng, draw=vote.draw, tally=vote.tally)
        option, policy_name, reason = decision.option, decision.policy, prefix + decision.reason
        if forced is not None:
            option, policy_name = forced, "host"
            reason = f"The host chose {by_id[forced].label}."
        vote.decided = option
        state.decided.add(vote.choice)
        goto = SceneId(by_id[option].goto)
        state.next_scene = goto
        out.append(
            Decide(
                vote.choice,
                option,
                goto,
                decision.scores,
                policy_name,
                reason,
                decision.turnout,
                at,
            )
        )
        for name, source in by_id[option].set.items():
            self._assign(name, source, at, out)

    # -- host -------------------------------------------------------------------------

    def _on_skip(self, now: float, out: list[Command]) -> None:
        if (code := self._host_refusal()) is not None:
            out.append(EventRejected("Skip", code, now))
            return
        vote = self._state.vote
        if vote is not None and vote.decided is None:
            if not vote.opened:
                vote.open(self._visible_options(now, out))
            self._decide(vote, now, out, forced=None, prefix="The host skipped ahead. ")
        self._end_scene(now, out)

    def _on_force(self, option: OptionId, now: float, out: list[Command]) -> None:
        vote = self._state.vote
        code = self._host_refusal()
        if code is None and vote is None:
            code = "no-choice"
        if code is not None or vote is None:
            out.append(EventRejected("Force", code or "no-choice", now))
            return
        if vote.decided is not None:
            out.append(EventRejected("Force", "already-decided", now))
            return
        options = vote.options if vote.opened else self._visible_options(now, out)
        if option not in options:
            out.append(EventRejected("Force", "unknown-option", now))
            return
        if not vote.opened:
            vote.open(options)
        self._decide(vote, now, out, forced=option, prefix="")

    def _host_refusal(self) -> EventRejectionCode | None:
        if self._state.phase is Phase.WAITING:
            return "not-started"
        if self._state.phase is Phase.ENDED:
            return "ended"
        return None

    # -- affect -----------------------------------------------------------------------

    def _on_fill_in(self, event: FillIn, out: list[Command]) -> None:
        state = self._state
        scene = self.story.scenes.get(event.scene)
        if scene is None or scene.generate is None:
            out.append(EventRejected("FillIn", "not-generated", event.now))
        elif state.phase is not Phase.PLAYING:
            out.append(
                EventRejected(
                    "FillIn", "not-started" if state.phase is Phase.WAITING else "ended", event.now
                )
            )
        elif state.scene == event.scene:
            out.append(EventRejected("FillIn", "already-playing", event.now))
        else:
            state.fill_ins[event.scene] = (event.media, event.asset)

    def _on_room_mood(self, event: RoomMood) -> None:
        hr = event.heart_rate_bpm
        mood = Mood(
            clamp("valence", event.valence),
            clamp("arousal", event.arousal),
            clamp("engagement", event.engagement),
            viewers=max(0, event.viewers),
            present=max(0, event.present),
            heart_rate_bpm=hr if hr is None or math.isfinite(hr) else None,
        )
        self._state.room_mood = mood
        if self._state.phase is Phase.PLAYING:
            self._state.scene_mood.observe(mood, event.now)

    def _mood_report(self, scene: SceneId, at: float) -> MoodReport:
        tally = self._state.scene_mood
        m = tally.summary(at) or Mood(0.0, 0.0, 0.0, viewers=0)
        return MoodReport(scene, m.valence, m.arousal, m.engagement, m.viewers, tally.readings, at)

    # -- story expressions ------------------------------------------------------------

    def _env(self, at: float) -> dict[str, Value]:
        mood = self.mood(at)
        env: dict[str, Value] = dict(self._state.variables)
        env.update({"mood.valence": mood.valence, "mood.arousal": mood.arousal})
        env["mood.engagement"] = mood.engagement
        return env

    def _condition(self, source: Source, at: float, out: list[Command]) -> Value | None:
        try:
            return parse(source).evaluate(self._env(at))
        except ExpressionError as exc:
            assert self._state.scene is not None
            out.append(StoryFault(self._state.scene, str(exc), at))
            return None

    def _assign(self, name: str, source: Source, at: float, out: list[Command]) -> None:
        value = self._condition(source, at, out)
        if value is not None:
            self._state.variables[name] = value

    def _pick_variant(self, scene: Scene, at: float, out: list[Command]) -> int | None:
        for index, variant in enumerate(scene.variants):
            if self._condition(variant.when, at, out) is True:
                return index
        return None


def _well_formed(ballot: Ballot) -> bool:
    match ballot:
        case Pick():
            return True
        case Ranking(options=options):
            return bool(options) and len(set(options)) == len(options)
        case Approval(options=options):
            return bool(options)


__all__ = ["Phase", "Screening"]
