// The screening report: the path the room took, every decision with its reason, tally and
// turnout, the charts (plots.js), and JSON/CSV downloads. The report is the host's: every
// call carries the host token, read from this browser's storage (`kinoroom.host.<CODE>`,
// written by the host page) or from `#token=` in the URL.
//
// The host page reuses `renderReport` to show the report inline when the screening ends;
// this module only boots its own page when loaded by report.html (body[data-page=report]).

import { api } from "./api.js";
import { $, h } from "./dom.js";
import { explain } from "./errors.js";
import { normalizeCode } from "./protocol.js";
import { choicesChart, formatScore, moodChart, turnoutChart } from "./plots.js";

export function hostTokenKey(code) {
  return `kinoroom.host.${code}`;
}

function humanize(id) {
  const text = String(id ?? "").replace(/[-_]+/g, " ").trim();
  return text ? text[0].toUpperCase() + text.slice(1) : "";
}

function decidedAfter(node) {
  if (typeof node.at !== "number" || typeof node.opened_at !== "number") return "";
  return ` · decided ${formatScore(Math.round((node.at - node.opened_at) * 10) / 10)} s after the vote opened`;
}

function pathView(path) {
  const items = [];
  path.forEach((scene, i) => {
    if (i > 0) items.push(h("li", { class: "sep", "aria-hidden": "true" }, "›"));
    items.push(h("li", { class: "scene", dataset: { scene } }, scene));
  });
  return h("nav", { id: "path", class: "path", "aria-label": "The path the room took" }, h("ol", {}, items));
}

function tallyTable(node) {
  const labels = node.labels || {};
  const total = Object.values(node.tally || {}).reduce((a, b) => a + b, 0);
  const rows = Object.entries(node.tally || {}).map(([id, score]) => h(
    "tr", { class: id === node.option ? "chosen" : null, dataset: { option: id } },
    h("th", { scope: "row" }, labels[id] || id, id === node.option ? " ✓" : ""),
    h("td", {}, formatScore(score)),
    h("td", {}, total > 0 ? `${Math.round((score / total) * 100)}%` : "–"),
  ));
  return h(
    "table", { class: "tally" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Option"), h("th", { scope: "col" }, "Score"), h("th", { scope: "col" }, "Share"))),
    h("tbody", {}, rows),
  );
}

function nodeView(node, series, index) {
  const turnout = node.turnout || { voted: 0, present: 0 };
  const label = node.label || (node.labels || {})[node.option] || node.option;
  return h(
    "article", { class: "node panel", dataset: { choice: node.choice } },
    h("h3", {}, h("span", { class: "muted" }, `${index + 1}. `), node.prompt || humanize(node.choice)),
    h("p", { class: "chosen" }, "Chosen: ", h("strong", { class: "option" }, label),
      node.goto ? h("span", { class: "muted" }, ` → ${node.goto}`) : null),
    h("p", { class: "reason" }, node.reason),
    h("p", { class: "node-turnout muted" },
      `Turnout: ${turnout.voted} of ${turnout.present} phones`,
      ` · policy ${node.policy}`, decidedAfter(node)),
    tallyTable(node),
    h("div", { class: "plots" }, choicesChart(node), series ? turnoutChart(node, series) : null),
  );
}

function moodView(moods) {
  const watched = moods.some((m) => m.viewers > 0);
  return h("section", { id: "report-mood", class: "panel", "aria-label": "The room's mood" },
    h("h3", {}, "How the room felt"),
    watched
      ? h("div", { class: "plots" }, moodChart(moods))
      : h("p", { class: "muted" }, "No phone shared its camera, so there is no mood to show."));
}

function generatedView(assets) {
  if (!assets.length) return [];
  const score = (a) => (a.style_score === null ? "–" : a.style_score.toFixed(2));
  const took = (a) => Object.values(a.timings || {}).reduce((sum, s) => sum + s, 0).toFixed(1);
  const outcome = (a) => (a.played ? "played" : a.status === "done" ? "ready, not chosen" : `fallback played (${a.code || a.status})`);
  return [h("section", { id: "report-generated", class: "panel", "aria-label": "AI-generated scenes" },
    h("h3", {}, "AI-generated scenes"),
    h("table", { class: "tally" },
      h("thead", {}, h("tr", {}, ...["Scene", "Outcome", "Backend", "Model", "Prompt", "Seed", "Seconds", "Style"].map((c) => h("th", {}, c)))),
      h("tbody", {}, ...assets.map((a) => h("tr", { class: "asset", "data-job": a.job },
        h("td", {}, a.scene), h("td", { class: "outcome" }, outcome(a)), h("td", {}, a.backend),
        h("td", {}, a.model || "–"), h("td", {}, a.prompt), h("td", {}, String(a.seed)),
        h("td", {}, took(a)), h("td", {}, score(a)))))))];
}

/**
 * Fill `container` with a report (the JSON of GET /api/rooms/{code}/report).
 * @param {HTMLElement} container
 * @param {object} report
 * @param {{code: string, token: string}} auth for the download buttons
 */
export function renderReport(container, report, { code, token }) {
  const byChoice = new Map((report.turnout || []).map((t) => [t.choice, t]));
  const decisions = report.decisions || [];
  const status = h("p", { id: "download-status", class: "muted", role: "status" });
  container.replaceChildren(
    h("header", { class: "report-head" },
      h("h2", { class: "report-title" }, report.title || "Screening report"),
      h("p", { class: "muted" }, `Room ${report.room} · ${report.phase} · policy ${report.policy ?? decisions[0]?.policy ?? "–"}`)),
    h("h3", {}, "Path taken"),
    pathView(report.path || []),
    h("div", { class: "row downloads" },
      h("button", { id: "download-json", type: "button", onclick: () => download(code, token, "json", status) }, "Download JSON"),
      h("button", { id: "download-csv", type: "button", onclick: () => download(code, token, "csv", status) }, "Download CSV"),
      status),
    h("section", { id: "plots", "aria-label": "Decisions and charts" },
      decisions.length
        ? decisions.map((node, i) => nodeView(node, byChoice.get(node.choice), i))
        : h("p", { class: "muted" }, "No votes were decided in this screening.")),
    moodView(report.moods || []),
    ...generatedView(report.generated || []),
  );
}

async function download(code, token, kind, status) {
  const path = `/api/rooms/${encodeURIComponent(code)}/report${kind === "csv" ? ".csv" : ""}`;
  const accept = kind === "csv" ? "text/csv" : "application/json";
  const result = await api("GET", path, { token, accept });
  if (!result.ok) {
    const { title, next } = explain(result.code, result.message);
    status.textContent = `${title} ${next}`;
    return;
  }
  const text = kind === "csv" ? result.data : JSON.stringify(result.data, null, 2);
  const url = URL.createObjectURL(new Blob([text], { type: accept }));
  const link = h("a", { href: url, download: `kinoroom-${code}-report.${kind}`, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  status.textContent = "";
}

/** Fetch and render; returns false (and says why in `container`) when it cannot. */
export async function loadReport(container, code, token) {
  const result = await api("GET", `/api/rooms/${encodeURIComponent(code)}/report`, { token });
  if (!result.ok) {
    const { title, next } = explain(result.code, result.message);
    container.replaceChildren(h("div", { class: "notice error", role: "alert" }, h("strong", {}, title), next));
    return false;
  }
  renderReport(container, result.data, { code, token });
  return true;
}

function tokenFromHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  return params.get("token");
}

async function boot() {
  const code = normalizeCode(decodeURIComponent(location.pathname.split("/")[2] || ""));
  const container = $("#report");
  document.title = `Report ${code} · Kinoroom`;
  const fromHash = tokenFromHash();
  if (fromHash) {
    localStorage.setItem(hostTokenKey(code), fromHash);
    history.replaceState(null, "", location.pathname); // keep the token out of the address bar
  }
  const token = fromHash || localStorage.getItem(hostTokenKey(code));
  if (!token) {
    container.replaceChildren(h(
      "div", { id: "no-token", class: "notice info", role: "status" },
      h("strong", {}, "This report belongs to the host."),
      "Open it from the host page that ran the screening (its link remembers the room), ",
      h("a", { href: `/host?room=${encodeURIComponent(code)}` }, "here"), ".",
    ));
    return;
  }
  await loadReport(container, code, token);
}

if (document.body.dataset.page === "report") boot();
