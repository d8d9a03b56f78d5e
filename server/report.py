"""The host's screening report: what the room chose, why, who voted when, how it felt.

Built from the database alone (the room record, its story, decisions, moods, generated
assets and event log), so a report outlives the room's process: it works after the
screening ended and after a restart. Turnout over time comes from replaying the event log
(`narrative.turnout`).
"""

from __future__ import annotations

import csv
import io

from narrative.events import PlayScene, event_from_json
from narrative.ids import ChoiceId
from narrative.screening import Screening
from narrative.sources import load_source
from narrative.turnout import turnout_timeline
from server.persistence import EventRecord, Store
from server.rooms.core import screening_of

Report = dict[str, object]

CSV_COLUMNS = (
    "choice", "prompt", "option", "label", "score", "chosen", "reason", "policy",
    "voted", "present", "opened_at", "decided_at",
)  # fmt: skip


async def build_report(store: Store, code: str) -> Report | None:
    """The report of room ``code``, or None when there is no such room."""
    record = await store.room(code)
    if record is None:
        return None
    story_record = await store.story(record.story_id)
    assert story_record is not None, "rooms reference stories by foreign key"
    story = load_source(story_record.source, f"story-{story_record.id}")
    screening = screening_of(record, story)
    log = await store.events_after(code, 0)
    windows = {
        w.choice: w for w in turnout_timeline(screening, (event_from_json(e.payload) for e in log))
    }
    played = _played_assets(screening_of(record, story), log)
    decisions = []
    plot = screening.story  # replayed to the end: an ink run has seen every choice it offered
    for d in await store.decisions(code):
        choice = plot.scene(d.choice).choice
        assert choice is not None
        window = windows.get(ChoiceId(d.choice))
        decisions.append(
            {
                "choice": d.choice,
                "prompt": choice.prompt,
                "option": d.option,
                "label": next(o.label for o in choice.options if o.id == d.option),
                "labels": {o.id: o.label for o in choice.options},
                "goto": d.goto,
                "policy": d.policy,
                "reason": d.reason,
                "tally": dict(d.tally),
                "turnout": {"voted": d.voted, "present": d.present},
                "opened_at": window.opened_at if window else None,
                "at": d.at,
            }
        )
    return {
        "room": record.code,
        "title": plot.title,
        "phase": screening.phase.value,
        "policy": record.policy.get("name"),
        "mode": record.mode,
        "path": list(screening.path),
        "decisions": decisions,
        "turnout": [
            {
                "choice": w.choice,
                "opened_at": w.opened_at,
                "closes_at": w.closes_at,
                "points": [[p.at, p.voted, p.present] for p in w.points],
            }
            for w in windows.values()
        ],
        "moods": [
            {
                "scene": m.scene,
                "valence": m.valence,
                "arousal": m.arousal,
                "engagement": m.engagement,
                "viewers": m.viewers,
                "at": m.at,
            }
            for m in await store.scene_moods(code)
        ],
        # Every fill-in job's outcome and provenance: what was generated, by what, from
        # which prompt and seed, in how long, how well it kept the style, and whether it
        # played (done) or the fallback did (failed, rejected, late).
        "generated": [
            {
                "job": a.job_id,
                "scene": a.scene,
                "status": a.status,
                "played": a.job_id in played,
                "media": a.media,
                "backend": a.backend,
                "model": a.model,
                "prompt": a.prompt,
                "seed": a.seed,
                "duration_s": a.duration_s,
                "timings": a.timings,
                "style_score": a.style_score,
                "worker": a.worker,
                "code": a.code,
                "at": a.at,
            }
            for a in await store.generated_assets(code)
        ],
    }


def _played_assets(screening: Screening, log: list[EventRecord]) -> set[str]:
    """The fill-in jobs whose clip the room played (replaying its event log)."""
    played: set[str] = set()
    for record in log:
        for command in screening.handle(event_from_json(record.payload)):
            if isinstance(command, PlayScene) and command.generated is not None:
                played.add(command.generated)
    return played


def report_csv(report: Report) -> str:
    """One row per vote node and option: the tally, the winner, the reason, the turnout."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    decisions = report["decisions"]
    assert isinstance(decisions, list)
    for d in decisions:
        for option, score in d["tally"].items():
            writer.writerow(
                (
                    d["choice"], d["prompt"], option, d["labels"].get(option, option), score,
                    option == d["option"], d["reason"], d["policy"], d["turnout"]["voted"],
                    d["turnout"]["present"], d["opened_at"], d["at"],
                )
            )  # fmt: skip
    return out.getvalue()


__all__ = ["CSV_COLUMNS", "Report", "build_report", "report_csv"]
