// The host page's "Generated scenes" panel: the room's fill-in jobs
// (GET /api/rooms/{code}/fill-ins, newest first), each with its worker's stage and
// progress, then its outcome. The shot scene (the fallback) plays unless a job is done
// before its cue time; this panel is how the host knows which will play.

import { h } from "./dom.js";

const OUTCOMES = {
  queued: "waiting for a worker",
  overdue: "not ready: the shot scene plays",
  done: "ready ✓",
  late: "finished late: the shot scene plays",
  failed: "failed: the shot scene plays",
  rejected: "off-style: the shot scene plays",
};

/** Show ``jobs`` in ``section`` (a panel holding a table); hidden when there are none. */
export function drawFillIns(section, jobs) {
  section.hidden = jobs.length === 0;
  const rows = jobs.map((job) => h(
    "tr", { dataset: { job: job.job, phase: job.phase } },
    h("td", { class: "title" }, job.title),
    h("td", { class: "backend" }, job.backend),
    h("td", { class: "progress" }, job.phase === "running" ? running(job) : outcome(job)),
    h("td", { class: "cue" }, job.due_in_s > 0 ? `in ${Math.ceil(job.due_in_s)} s` : "passed"),
  ));
  section.querySelector("tbody").replaceChildren(...rows);
}

function running(job) {
  const percent = Math.round(job.fraction * 100);
  return [h("progress", { max: 100, value: percent }), ` ${job.stage} ${percent}%`];
}

function outcome(job) {
  const text = OUTCOMES[job.phase] ?? job.phase;
  return job.code && job.phase !== "done" ? `${text} (${job.code})` : text;
}
