// The host page (/host): pick or upload a story, create a room, then run the screening:
// invite (code, link, QR, big-screen link), start / skip / force / end, watch who is here
// and how the room's generated scenes are coming along.
//
// The host token is the key to the room: it is kept in localStorage `kinoroom.host.<CODE>`.
//   /host#room=CODE&token=TOKEN   adopts a room (the terminal prints this for the demo)
//   /host?room=CODE               resumes a room whose token this browser keeps
// Commands go over the room socket as {type: "host", action, id, ...}; the answer is a
// host_ack with the same id, or an error whose `ref` is that id.

import { api } from "./api.js";
import { $, h, showView } from "./dom.js";
import { explain } from "./errors.js";
import { drawFillIns } from "./fill_ins.js";
import { normalizeCode } from "./protocol.js";
import { drawTally as drawBars } from "./tally.js";
import { hostTokenKey, loadReport } from "./report.js";
import { RoomSocket } from "./room_socket.js";
import { showTrust } from "./trust_panel.js";
import { currentGroup, ensureGroup, showWatchNext } from "./watch_next.js";

const ROSTER_EVERY_MS = 2000;
const ROSTER_MAX_ROWS = 200;

const room = { code: null, token: null, joinUrl: null };
let socket = null;
let phase = "waiting";
let vote = null;
let decidedChoice = null;
let commandId = 0;
const pending = new Map(); // command id → action, to name what an error refused
let rosterTimer = null;
let rosterBusy = false;
let policies = [];

function notice(target, code, message) {
  const { title, next } = explain(code, message);
  target.replaceChildren(h("div", { class: "notice error" }, h("strong", {}, title), next));
}

// -- create view ----------------------------------------------------------------------

async function loadStories(select = null) {
  const result = await api("GET", "/api/stories");
  if (!result.ok) {
    notice($("#page-message"), result.code, result.message);
    return;
  }
  const stories = [...result.data].sort((a, b) => Number(b.bundled) - Number(a.bundled) || b.id - a.id);
  $("#story").replaceChildren(...stories.map((story) => h(
    "option", { value: story.id }, story.bundled ? `${story.title} (bundled)` : story.title,
  )));
  if (select !== null) $("#story").value = String(select);
}

async function loadPolicies() {
  const result = await api("GET", "/api/policies");
  if (!result.ok) {
    notice($("#page-message"), result.code, result.message);
    return;
  }
  policies = result.data;
  $("#policy").replaceChildren(...policies.map((p) => h("option", { value: p.name }, `${p.name} (${p.ballot} ballot)`)));
  const plurality = policies.find((p) => p.name === "plurality");
  if (plurality) $("#policy").value = plurality.name;
  showPolicySummary();
}

function showPolicySummary() {
  const policy = policies.find((p) => p.name === $("#policy").value);
  $("#policy-summary").textContent = policy ? policy.summary : "";
}

// A story file of any kind: Kinoroom YAML or JSON, a compiled ink story (.ink.json) or a
// Twine story (.twee); the server tells them apart by their content, so only the name
// (for the diagnostics) goes along.
async function readFile() {
  const file = $("#story-file").files[0];
  if (!file) return;
  $("#story-source").value = await file.text();
  $("#story-source").dataset.name = file.name;
  await upload();
}

async function upload() {
  const source = $("#story-source").value;
  const errors = $("#upload-errors");
  errors.hidden = true;
  if (!source.trim()) {
    $("#upload-status").textContent = "Choose a file or paste a story first.";
    return;
  }
  const name = $("#story-source").dataset.name || "pasted";
  $("#upload").disabled = true;
  $("#upload-status").textContent = "Checking…";  // an ink story is played through first
  const result = await api("POST", "/api/stories", { body: { source, name } });
  $("#upload").disabled = false;
  if (result.ok) {
    $("#upload-status").textContent = `Uploaded “${result.data.title}”.`;
    await loadStories(result.data.id);
    return;
  }
  $("#upload-status").textContent = "";
  const { title, next } = explain(result.code, result.message);
  const diagnostics = (result.data && result.data.diagnostics) || [];
  errors.replaceChildren(
    h("strong", {}, title), next,
    diagnostics.length ? h("ul", { class: "diagnostics" }, diagnostics.map((d) => h(
      "li", { class: `diagnostic ${d.severity}` },
      // an ink story has no lines: its diagnostics name the ink path instead
      h("span", { class: "where" }, d.path ?? `${d.line}:${d.col}`), " ",
      h("span", { class: "diag-code" }, d.code), " ", d.message,
    ))) : null,
  );
  errors.hidden = false;
}

async function create(event) {
  event.preventDefault();
  $("#create").disabled = true;
  const joined = await ensureGroup($("#group-name").value);  // the room joins the group's history
  if (!joined.ok) {
    $("#create").disabled = false;
    notice($("#page-message"), joined.code, joined.message);
    return;
  }
  const result = await api("POST", "/api/rooms", {
    body: {
      story_id: Number($("#story").value), policy: $("#policy").value, mode: $("#mode").value,
      group: joined.group.id,
    },
  });
  $("#create").disabled = false;
  if (!result.ok) {
    notice($("#page-message"), result.code, result.message);
    return;
  }
  localStorage.setItem(hostTokenKey(result.data.code), result.data.host_token);
  history.replaceState(null, "", `/host?room=${result.data.code}`);
  await openRoom(result.data.code, result.data.host_token);
}

// -- room view ------------------------------------------------------------------------

async function openRoom(code, token) {
  const info = await api("GET", `/api/rooms/${encodeURIComponent(code)}`);
  if (!info.ok) {
    showCreate();
    notice($("#page-message"), info.code, info.message);
    return;
  }
  $("#page-message").replaceChildren();
  Object.assign(room, { code: info.data.code, token, joinUrl: info.data.join_url });
  document.title = `${info.data.code} · Host · Kinoroom`;
  $("#room-code").textContent = info.data.code;
  $("#room-title").textContent = info.data.title;
  $("#join-link").textContent = info.data.join_url;
  $("#qr").src = `/api/rooms/${encodeURIComponent(info.data.code)}/qr.svg`;
  $("#screen-link").href = `/screen/${encodeURIComponent(info.data.code)}`;
  $("#report-link").href = `/rooms/${encodeURIComponent(info.data.code)}/report`;
  $("#studio-link").href = `/studio?room=${encodeURIComponent(info.data.code)}`; // the key: this browser's
  showView("room");
  showTrust(info.data.join_url); // how phones reach the camera-capable address
  socket = new RoomSocket({ code: room.code, token, role: "host" });
  socket.addEventListener("message", (event) => onMessage(event.detail));
  socket.addEventListener("status", (event) => onStatus(event.detail));
  socket.start();
  refreshRoster();
  rosterTimer = setInterval(refreshRoster, ROSTER_EVERY_MS);
}

function onStatus({ state, code }) {
  const badge = $("#connection");
  badge.hidden = state === "open";
  badge.className = state === "gone" ? "badge on" : "badge";
  if (state === "reconnecting" || state === "connecting") badge.textContent = "Connecting…";
  if (state === "gone") {
    badge.textContent = code === "closed" ? "Disconnected" : explain(code).title;
    if (code === "bad-token") localStorage.removeItem(hostTokenKey(room.code));
  }
  updateControls();
}

function onMessage(message) {
  switch (message.type) {
    case "welcome":
      applyState(message.state);
      refreshRoster(); // this page's own seat is connected now
      break;
    case "state":
      applyState(message);
      break;
    case "vote_open":
      openVote(message);
      break;
    case "tally":
      if (vote && message.choice === vote.choice) drawTally(message.scores, message);
      break;
    case "decision":
      decidedChoice = message.choice;
      if (vote && vote.choice === message.choice) drawTally(message.tally, message.turnout, message.option);
      $("#now-decision").textContent = `Chose “${message.label}”: ${message.reason}`;
      updateControls();
      break;
    case "presence":
      refreshRoster();
      break;
    case "host_ack":
      pending.delete(message.id);
      hostMessage(`Done: ${message.action.replace("_", " ")}.`, false);
      break;
    case "error": {
      const action = pending.get(message.ref);
      pending.delete(message.ref);
      const { title, next } = explain(message.code, message.message);
      hostMessage(`${action ? `${action}: ` : ""}${title} ${next}`.trim(), true);
      break;
    }
    case "ended":
      showEnded(message.reason);
      break;
    default:
      break;
  }
}

function applyState(state) {
  phase = state.phase;
  $("#now-phase").textContent = state.phase;
  $("#now-phase").className = state.phase === "playing" ? "badge ok" : "badge";
  $("#now-scene").textContent = state.scene ? `Scene: ${state.scene}` : state.phase === "waiting" ? "Waiting for you to start" : "";
  if (state.vote) openVote(state.vote);
  else if (vote && decidedChoice === vote.choice) {
    // keep the decided vote on show until the next one opens
  } else if (vote) {
    vote = null;
    $("#now-prompt").textContent = "";
    $("#now-tally").replaceChildren();
  }
  if (state.phase === "ended") showEnded(null);
  updateControls();
}

function showEnded(reason) {
  phase = "ended";
  $("#now-phase").textContent = "ended";
  $("#now-phase").className = "badge";
  $("#now-scene").textContent = reason === "host" ? "You ended the screening." : "The screening has ended.";
  $("#host-message").hidden = true;
  updateControls();
  showReport();
}

function openVote(open) {
  if (vote && vote.choice === open.choice && vote.opens_at === open.opens_at) return;
  vote = open;
  decidedChoice = null;
  $("#now-prompt").textContent = `Vote: ${open.prompt} (${open.policy})`;
  $("#now-decision").textContent = "";
  $("#now-turnout").textContent = "";
  $("#now-tally").replaceChildren(...open.options.map((option) => h(
    "div", { class: "bar", dataset: { option: option.id } },
    // Label and score above a track, never over the fill: readable at any share.
    h("div", { class: "text" }, h("span", { class: "label" }, option.label), h("span", { class: "score" }, "0")),
    h("div", { class: "track" }, h("div", { class: "fill", style: "width: 0%" })),
  )));
  $("#force").replaceChildren(h("span", { class: "muted" }, "Close the vote now:"), ...open.options.map((option) => h(
    "button", { type: "button", class: "force", dataset: { option: option.id }, onclick: () => command("force", { option: option.id }) },
    `Force: ${option.label}`,
  )));
  updateControls();
}

function drawTally(scores, turnout, winner = null) {
  drawBars($("#now-tally"), $("#now-turnout"), scores, turnout, winner);
}

function updateControls() {
  const open = socket && socket.state === "open";
  $("#start").disabled = !open || phase !== "waiting";
  $("#skip").disabled = !open || phase !== "playing";
  $("#end").disabled = !open || phase === "ended";
  $("#show-tally").disabled = !open || phase === "ended";
  const voting = Boolean(vote) && decidedChoice !== vote.choice && phase === "playing";
  $("#force").hidden = !voting;
  for (const button of document.querySelectorAll("button.force")) button.disabled = !open || !voting;
  if (phase === "ended") confirmEnd(false);
}

function command(action, extra = {}) {
  commandId += 1;
  pending.set(commandId, action);
  if (!socket.send({ type: "host", action, id: commandId, ...extra })) {
    pending.delete(commandId);
    hostMessage(`${action}: not connected to the room; wait for the connection to come back.`, true);
  }
}

function hostMessage(text, isError) {
  const box = $("#host-message");
  box.textContent = text;
  box.className = isError ? "notice error" : "notice info";
  box.hidden = false;
}

function confirmEnd(asking) {
  $("#end").hidden = asking;
  $("#end-confirm").hidden = !asking;
  $("#end-cancel").hidden = !asking;
  if (asking) $("#end-confirm").focus();
}

async function copyLink() {
  const link = $("#join-link");
  try {
    if (!navigator.clipboard) throw new Error("no clipboard");
    await navigator.clipboard.writeText(link.textContent);
    $("#copy-status").textContent = "Copied.";
  } catch {
    // No clipboard (plain http, or permission refused): select it for Ctrl+C instead.
    const range = document.createRange();
    range.selectNodeContents(link);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    $("#copy-status").textContent = "Selected: press Ctrl+C (or ⌘C) to copy.";
  }
}

// -- roster ---------------------------------------------------------------------------

async function refreshRoster() {
  if (rosterBusy || !room.token) return;
  rosterBusy = true;
  const base = `/api/rooms/${encodeURIComponent(room.code)}`;
  const [result, jobs] = await Promise.all([
    api("GET", `${base}/roster`, { token: room.token }),
    api("GET", `${base}/fill-ins`, { token: room.token }),
  ]);
  rosterBusy = false;
  if (!result.ok) {
    if (result.code === "bad-token" || result.code === "forbidden") clearInterval(rosterTimer);
    $("#roster-count").textContent = `(${explain(result.code, result.message).title})`;
    return;
  }
  drawRoster(result.data);
  if (jobs.ok) drawFillIns($("#fill-ins"), jobs.data.jobs);
}

function drawRoster({ seats, connected }) {
  const order = { host: 0, screen: 1, phone: 2 };
  const sorted = [...seats].sort((a, b) => order[a.role] - order[b.role] || Number(b.connected) - Number(a.connected));
  const shown = sorted.slice(0, ROSTER_MAX_ROWS);
  const rows = shown.map((seat) => h(
    "tr", { dataset: { device: seat.device }, class: seat.connected ? "on" : "off" },
    h("td", { class: "nickname" }, seat.nickname),
    h("td", { class: "role" }, seat.role),
    h("td", { class: `state ${seat.connected ? "connected" : "disconnected"}` }, seat.connected ? "connected" : "disconnected"),
    h("td", { class: "voted", "aria-label": seat.voted ? "voted" : "not voted" }, seat.voted ? "✓" : ""),
  ));
  if (sorted.length > shown.length) {
    rows.push(h("tr", { class: "more" }, h("td", { colspan: 4 }, `and ${sorted.length - shown.length} more`)));
  }
  $("#roster tbody").replaceChildren(...rows);
  // Counts by role; the keys are plural in the API contract ("phones"), singular in early servers.
  const count = (role) => connected[`${role}s`] ?? connected[role] ?? 0;
  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  $("#roster-count").textContent = `(${plural(count("phone"), "phone")} connected, ${plural(count("screen"), "screen")})`;
}

// -- report ---------------------------------------------------------------------------

let reportShown = false;

async function showReport() {
  if (reportShown) return;
  reportShown = true;
  $("#report-area").hidden = false;
  await loadReport($("#report"), room.code, room.token);
  await showWatchNext($("#watch-next"));
}

// -- boot -----------------------------------------------------------------------------

function showCreate() {
  showView("create");
  const group = currentGroup();
  if (group) $("#group-name").value = group.name;
  loadStories();
  loadPolicies();
}

function boot() {
  $("#story-file").addEventListener("change", readFile);
  $("#story-source").addEventListener("input", () => delete $("#story-source").dataset.name);
  $("#upload").addEventListener("click", upload);
  $("#policy").addEventListener("change", showPolicySummary);
  $("#create-form").addEventListener("submit", create);
  $("#start").addEventListener("click", () => command("start"));
  $("#skip").addEventListener("click", () => command("skip"));
  $("#end").addEventListener("click", () => confirmEnd(true));
  $("#end-cancel").addEventListener("click", () => confirmEnd(false));
  $("#end-confirm").addEventListener("click", () => {
    confirmEnd(false);
    command("end");
  });
  $("#show-tally").addEventListener("change", (event) => command("show_tally", { show: event.target.checked }));
  $("#copy-link").addEventListener("click", copyLink);

  const hash = new URLSearchParams(location.hash.slice(1));
  const query = new URLSearchParams(location.search);
  const code = normalizeCode(hash.get("room") || query.get("room") || "");
  if (code && hash.get("token")) {
    localStorage.setItem(hostTokenKey(code), hash.get("token"));
    history.replaceState(null, "", `/host?room=${code}`); // the token leaves the address bar
  }
  const token = code ? localStorage.getItem(hostTokenKey(code)) : null;
  if (code && token) {
    openRoom(code, token);
    return;
  }
  showCreate();
  if (code) {
    $("#page-message").replaceChildren(h(
      "div", { class: "notice info" }, h("strong", {}, `This browser has no host key for room ${code}.`),
      "Open the host link printed in the terminal, or create a new room below.",
    ));
  }
}

boot();
