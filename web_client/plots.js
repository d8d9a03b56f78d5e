// Inline SVG charts for the screening report: no library, no canvas, so a chart is text a
// screen reader can read (<title>, <desc>, axis labels) and a test can count bars in.
//
//   choicesChart(node)   one bar per option: its score at the decision, the winner filled
//   turnoutChart(node, series)   voters over the vote window: x = seconds since it opened
//   moodChart(moods)     the room's mood per scene: valence, arousal, engagement lines

const SVG = "http://www.w3.org/2000/svg";
const W = 560;
const H = 260;
const M = { top: 16, right: 20, bottom: 46, left: 56 }; // room for the axis labels

function s(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) node.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

function frame(kind, title, description) {
  const id = `plot-${kind}-${Math.random().toString(36).slice(2, 8)}`;
  return s(
    "svg",
    {
      class: `plot ${kind}`, viewBox: `0 0 ${W} ${H}`, role: "img",
      "aria-labelledby": `${id}-t ${id}-d`, preserveAspectRatio: "xMidYMid meet",
    },
    s("title", { id: `${id}-t` }, title),
    s("desc", { id: `${id}-d` }, description),
  );
}

/** Round "nice" upper bound and tick step for an axis from 0 to `max`. */
export function niceScale(max, ticks = 4, { integer = false } = {}) {
  if (!(max > 0)) return { top: 1, step: 1 };
  const raw = max / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 2.5, 5, 10].map((f) => f * power).find((f) => f >= raw);
  if (integer) step = Math.max(1, Math.round(step)); // counts of phones have no halves
  return { top: Math.ceil(max / step - 1e-9) * step, step };
}

/** A score as people read it: 3, 2.5, 0.25 (never 0.30000000000000004). */
export function formatScore(value) {
  return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(2)));
}

function yAxis(svg, top, step, label) {
  const plotH = H - M.top - M.bottom;
  for (let v = 0; v <= top + 1e-9; v += step) {
    const y = M.top + plotH - (v / top) * plotH;
    svg.append(
      s("line", { class: "grid", x1: M.left, x2: W - M.right, y1: y, y2: y }),
      s("text", { class: "tick", x: M.left - 8, y: y + 4, "text-anchor": "end" }, formatScore(v)),
    );
  }
  svg.append(s("text", {
    class: "axis-label", x: 14, y: M.top + plotH / 2, "text-anchor": "middle",
    transform: `rotate(-90 14 ${M.top + plotH / 2})`,
  }, label));
}

function xAxisLabel(svg, label) {
  svg.append(s("text", { class: "axis-label", x: M.left + (W - M.left - M.right) / 2, y: H - 6, "text-anchor": "middle" }, label));
}

/**
 * A bar chart of one decision's tally.
 * @param {{choice: string, prompt?: string, option: string, tally: Object<string, number>,
 *          labels?: Object<string, string>}} node a report decision
 * @returns {SVGSVGElement} `svg.plot.choices` with one `rect.bar[data-option]` per option
 */
export function choicesChart(node) {
  const labels = node.labels || {};
  const entries = Object.entries(node.tally || {});
  const name = (id) => labels[id] || id;
  const described = entries.map(([id, score]) => `${name(id)}: ${formatScore(score)}`).join(", ");
  const svg = frame(
    "choices",
    `Choice distribution at ${node.prompt || node.choice}`,
    `${described || "no votes"}; chosen: ${name(node.option)}.`,
  );
  const integer = entries.every(([, v]) => Number.isInteger(v));
  const { top, step } = niceScale(Math.max(0, ...entries.map(([, v]) => v)), 4, { integer });
  yAxis(svg, top, step, "score");
  xAxisLabel(svg, "option");
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const slot = plotW / Math.max(1, entries.length);
  const barW = Math.min(96, slot * 0.6);
  entries.forEach(([id, score], i) => {
    const x = M.left + slot * i + (slot - barW) / 2;
    const height = (score / top) * plotH;
    const y = M.top + plotH - height;
    const chosen = id === node.option;
    svg.append(
      s("rect", {
        class: chosen ? "bar chosen" : "bar", "data-option": id,
        x, y, width: barW, height: Math.max(height, 0.5), rx: 4,
      }, s("title", {}, `${name(id)}: ${formatScore(score)}${chosen ? " (chosen)" : ""}`)),
      s("text", { class: "value", x: x + barW / 2, y: y - 4, "text-anchor": "middle" }, formatScore(score)),
      s("text", { class: "tick", x: x + barW / 2, y: M.top + plotH + 16, "text-anchor": "middle" }, clip(name(id), slot)),
    );
  });
  return svg;
}

function clip(text, width) {
  const fits = Math.max(4, Math.floor(width / 7.5));
  return text.length > fits ? `${text.slice(0, fits - 1)}…` : text;
}

/**
 * A step line of distinct voters (and phones present) over one vote window.
 * @param {{choice: string, prompt?: string, opened_at?: number}} node a report decision
 * @param {{points: Array<[number, number, number]>}} series `turnout[]` of the report:
 *   [room-clock time, voted so far, present]
 * @returns {SVGSVGElement} `svg.plot.turnout` with `path.line.voted` and `path.line.present`
 */
export function turnoutChart(node, series) {
  const points = [...((series && series.points) || [])];
  const start = node.opened_at ?? (points.length ? points[0][0] : 0);
  // The counts hold until the decision: carry the last one to it, so the line spans the window.
  const end = points[points.length - 1];
  if (end && typeof node.at === "number" && node.at > end[0]) points.push([node.at, end[1], end[2]]);
  const xs = points.map(([at]) => Math.max(0, at - start));
  const last = points[points.length - 1];
  const svg = frame(
    "turnout",
    `Turnout over time at ${node.prompt || node.choice}`,
    last
      ? `${last[1]} of ${last[2]} phones voted within ${formatScore(Math.round(xs[xs.length - 1] * 10) / 10)} s.`
      : "No turnout recorded.",
  );
  const { top, step } = niceScale(
    Math.max(1, ...points.map(([, voted, present]) => Math.max(voted, present))), 4, { integer: true },
  );
  const xScale = niceScale(Math.max(1, ...xs), 5);
  yAxis(svg, top, step, "phones");
  xAxisLabel(svg, "seconds since the vote opened");
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const px = (t) => M.left + (t / xScale.top) * plotW;
  const py = (v) => M.top + plotH - (v / top) * plotH;
  for (let t = 0; t <= xScale.top + 1e-9; t += xScale.step) {
    svg.append(s("text", { class: "tick", x: px(t), y: M.top + plotH + 16, "text-anchor": "middle" }, formatScore(t)));
  }
  // A step line: the count holds until the next vote arrives.
  const stepPath = (pick) => points
    .map((p, i) => (i === 0
      ? `M${px(xs[i]).toFixed(1)} ${py(pick(p)).toFixed(1)}`
      : `H${px(xs[i]).toFixed(1)} V${py(pick(p)).toFixed(1)}`))
    .join(" ");
  if (points.length) {
    svg.append(
      s("path", { class: "line present", d: stepPath((p) => p[2]) }, s("title", {}, "phones present")),
      s("path", { class: "line voted", d: stepPath((p) => p[1]) }, s("title", {}, "phones that had voted")),
    );
    for (let i = 0; i < (series.points || []).length; i += 1) {
      svg.append(s("circle", { class: "dot voted", cx: px(xs[i]), cy: py(points[i][1]), r: 3 }));
    }
  }
  svg.append(
    s("text", { class: "legend voted", x: W - M.right, y: M.top + 10, "text-anchor": "end" }, "— voted"),
    s("text", { class: "legend present", x: W - M.right, y: M.top + 26, "text-anchor": "end" }, "- - present"),
  );
  return svg;
}

const MOOD_LINES = [
  ["valence", "valence (−1 unpleasant … +1 pleasant)"],
  ["arousal", "arousal (−1 calm … +1 excited)"],
  ["engagement", "engagement (0 elsewhere … 1 riveted)"],
];

/**
 * The room's mood scene by scene: one line per dimension on a −1…+1 axis, a dot per
 * scene that cameras watched (a scene no camera watched leaves a gap).
 * @param {Array<{scene: string, valence: number, arousal: number, engagement: number,
 *   viewers: number}>} moods `moods[]` of the report, in the order the scenes played
 * @returns {SVGSVGElement} `svg.plot.mood` with `path.line.<dimension>` and
 *   `circle.dot[data-scene][data-dimension]`
 */
export function moodChart(moods) {
  const watched = moods.filter((m) => m.viewers > 0);
  const most = Math.max(0, ...moods.map((m) => m.viewers));
  const svg = frame(
    "mood",
    "The room's mood, scene by scene",
    watched.length
      ? watched.map((m) => `${m.scene}: valence ${formatScore(m.valence)}, arousal ${formatScore(m.arousal)}, engagement ${formatScore(m.engagement)} (${m.viewers} ${m.viewers === 1 ? "camera" : "cameras"})`).join("; ")
      : "No camera shared a mood.",
  );
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const py = (v) => M.top + ((1 - v) / 2) * plotH;
  for (const v of [-1, -0.5, 0, 0.5, 1]) {
    svg.append(
      s("line", { class: v === 0 ? "grid zero" : "grid", x1: M.left, x2: W - M.right, y1: py(v), y2: py(v) }),
      s("text", { class: "tick", x: M.left - 8, y: py(v) + 4, "text-anchor": "end" }, formatScore(v)),
    );
  }
  svg.append(s("text", {
    class: "axis-label", x: 14, y: M.top + plotH / 2, "text-anchor": "middle",
    transform: `rotate(-90 14 ${M.top + plotH / 2})`,
  }, "room mood"));
  xAxisLabel(svg, most ? `scene (most cameras: ${most})` : "scene");
  const slot = plotW / Math.max(1, moods.length);
  const px = (i) => M.left + slot * (i + 0.5);
  moods.forEach((m, i) => {
    svg.append(s("text", { class: "tick", x: px(i), y: M.top + plotH + 16, "text-anchor": "middle" }, clip(m.scene, slot)));
  });
  MOOD_LINES.forEach(([dimension, title], k) => {
    let d = "";
    let pen = "M";
    moods.forEach((m, i) => {
      if (!(m.viewers > 0)) {
        pen = "M"; // no camera in this scene: the line breaks
        return;
      }
      d += `${pen}${px(i).toFixed(1)} ${py(m[dimension]).toFixed(1)} `;
      pen = "L";
      svg.append(s(
        "circle", { class: `dot ${dimension}`, cx: px(i), cy: py(m[dimension]), r: 4, "data-scene": m.scene, "data-dimension": dimension },
        s("title", {}, `${m.scene}: ${dimension} ${formatScore(m[dimension])}`),
      ));
    });
    if (d) svg.append(s("path", { class: `line ${dimension}`, d: d.trim() }, s("title", {}, title)));
    svg.append(s("text", { class: `legend ${dimension}`, x: W - M.right, y: M.top + 10 + 16 * k, "text-anchor": "end" }, `— ${dimension}`));
  });
  return svg;
}
