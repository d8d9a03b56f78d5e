// The shared screen (/screen/CODE): a projector or TV that shows the room to the room.
//
// Lobby: the code, the QR and how many phones joined. Film: the scene, the live tally
// with a countdown on the room clock, then the decision and its reason, which stays a
// few seconds into the next scene (DECISION_LINGER_MS) and then leaves the picture to
// the film. The join code and QR stay in a corner during the film, so latecomers can
// still join.
//
// The screen takes its own seat (POST /join with role "screen") and keeps the token in
// localStorage `kinoroom.screen.<CODE>`, so a reload gets the same seat back.
// The film plays full-bleed behind the vote over WebRTC (film.js, 720p), muted until
// someone presses "Sound on" (#sound): a screen has no tap to unlock audio otherwise.
// Tallies arrive up to 4 a second; they are kept and drawn at most every 250 ms in an
// animation frame, so a busy room never makes the page draw more than the eye can read.

import { api } from "./api.js";
import { $, formatSeconds, h, showView } from "./dom.js";
import { explain } from "./errors.js";
import { FilmPlayer } from "./film.js";
import { normalizeCode } from "./protocol.js";
import { drawTally as drawBars } from "./tally.js";
import { RoomSocket } from "./room_socket.js";
import { showWords } from "./words.js";

const DRAW_EVERY_MS = 250;
const DECISION_LINGER_MS = 5000; // the decision stays this long into the next scene

const code = normalizeCode(decodeURIComponent(location.pathname.split("/")[2] || ""));
const storageKey = `kinoroom.screen.${code}`;

let socket = null;
let film = null; // the FilmPlayer
let vote = null; // the vote_open on show (also after it closed, until it is retired)
let latestTally = null;
let lastDraw = 0;
let drawQueued = false;
let countdownTimer = null;
let retireTimer = null;
let decided = false;
let rejoined = false; // a stale stored seat is replaced once, not in a loop

function humanize(id) {
  const text = String(id ?? "").replace(/[-_]+/g, " ").trim();
  return text ? text[0].toUpperCase() + text.slice(1) : "";
}

function showError(errorCode, message) {
  const { title, next } = explain(errorCode, message);
  $("#error-title").textContent = title;
  $("#error-next").textContent = next;
  $("#join").hidden = true;
  showView("error");
}

function showJoin(visible) {
  $("#join").hidden = !visible;
}

// -- the vote -------------------------------------------------------------------------

function openVote(open) {
  if (vote && vote.choice === open.choice && vote.opens_at === open.opens_at) return;
  clearTimeout(retireTimer);
  retireTimer = null;
  vote = open;
  decided = false;
  latestTally = null;
  $("#decision").hidden = true;
  $("#vote").hidden = false;
  $("#vote").classList.remove("closed");
  $("#vote-prompt").textContent = open.prompt;
  $("#tally").replaceChildren(...open.options.map((option) => h(
    "div", { class: "bar", dataset: { option: option.id } },
    // Label and score above a track, never over the fill: readable at any share.
    h("div", { class: "text" }, h("span", { class: "label" }, option.label), h("span", { class: "score" }, "0")),
    h("div", { class: "track" }, h("div", { class: "fill", style: "width: 0%" })),
  )));
  $("#turnout").textContent = "";
  clearInterval(countdownTimer);
  countdownTimer = setInterval(tickCountdown, 100);
  tickCountdown();
}

function tickCountdown() {
  const now = socket && socket.roomNow();
  if (!vote || now === null) return;
  const left = vote.closes_at - now;
  $("#countdown").textContent = decided ? "" : formatSeconds(left);
  $("#countdown").classList.toggle("urgent", left <= 5 && !decided);
  if (left <= 0 || decided) {
    clearInterval(countdownTimer);
    $("#vote").classList.add("closed");
  }
}

function queueTally(tally) {
  if (!vote || tally.choice !== vote.choice || decided) return;
  latestTally = tally;
  if (drawQueued) return;
  drawQueued = true;
  const wait = Math.max(0, DRAW_EVERY_MS - (performance.now() - lastDraw));
  setTimeout(() => requestAnimationFrame(() => {
    drawQueued = false;
    lastDraw = performance.now();
    if (latestTally) drawTally(latestTally.scores, latestTally);
  }), wait);
}

function drawTally(scores, turnout, winner = null) {
  drawBars($("#tally"), $("#turnout"), scores, turnout, winner);
}

/** Once the film has moved past the vote's scene, clear the vote and decision away. */
function retireVote({ tallyNow = false } = {}) {
  if (tallyNow) $("#vote").hidden = true;
  if (retireTimer) return;
  retireTimer = setTimeout(() => {
    retireTimer = null;
    vote = null;
    decided = false;
    latestTally = null;
    clearInterval(countdownTimer);
    $("#vote").hidden = true;
    $("#decision").hidden = true;
  }, DECISION_LINGER_MS);
}

function showDecision(decision) {
  decided = true;
  latestTally = null;
  if (vote && vote.choice === decision.choice) {
    drawTally(decision.tally, decision.turnout, decision.option);
  }
  tickCountdown();
  $("#decision-label").textContent = decision.label;
  $("#decision-reason").textContent = decision.reason;
  $("#decision").hidden = false;
}

// -- the room -------------------------------------------------------------------------

function applyState(state) {
  if (film) film.setMusicGain(state.music_gain_db);
  showAiLabel(Boolean(state.generated));
  if (state.phase === "ended") {
    showEnded();
    return;
  }
  if (state.phase === "waiting") {
    showView("lobby");
    showJoin(true);
    return;
  }
  showView("film");
  showJoin(true);
  showWords($("#words"), state.text, { caption: Boolean(state.media) });
  // A text scene is its words: no scene name above them (an ink scene's id is a turn).
  $("#scene-title").textContent = state.text ? "" : humanize(state.scene);
  if (state.vote) openVote(state.vote);
  // A vote's choice is its scene. The next text scene's words need the stage: the tally
  // goes at once there, and the decision alone stays a while.
  else if (vote && state.scene !== vote.choice) retireVote({ tallyNow: Boolean(state.text && !state.media) });
}

function showEnded() {
  showWords($("#words"), null);
  clearInterval(countdownTimer);
  stopFilm();
  showJoin(false);
  showView("ended");
}

function setPresence(phones) {
  $("#presence-count").textContent = `${phones} ${phones === 1 ? "phone" : "phones"} joined`;
}

function onMessage(message) {
  switch (message.type) {
    case "welcome":
      $("#film-title").textContent = message.title;
      $("#ended-title").textContent = message.title;
      document.title = `${message.title} · ${code} · Kinoroom`;
      applyState(message.state);
      if (message.state.phase !== "ended") startFilm();
      break;
    case "state":
      applyState(message);
      break;
    case "vote_open":
      openVote(message);
      break;
    case "tally":
      queueTally(message);
      break;
    case "decision":
      showDecision(message);
      break;
    case "presence":
      setPresence(message.phones);
      break;
    case "mood":
      renderMood(message);
      break;
    case "ended":
      showEnded();
      break;
    case "error":
      if (message.code === "bad-token") localStorage.removeItem(storageKey);
      break;
    default:
      break; // acks and the rest are not the screen's business
  }
}

function onStatus({ state, code: why }) {
  const status = $("#connection");
  if (state === "reconnecting") {
    status.textContent = "Reconnecting…";
    status.hidden = false;
  } else if (state === "open") {
    status.hidden = true;
  } else if (state === "gone" && why !== "closed") {
    if (why === "bad-token" && !rejoined) {
      rejoined = true;
      localStorage.removeItem(storageKey);
      connect(); // the stored seat is gone (a new server secret): take a fresh one
      return;
    }
    status.replaceChildren(
      explain(why).title, " ",
      h("button", { type: "button", onclick: () => socket.start() }, "Reconnect"),
    );
    status.hidden = false;
  }
}

async function seat() {
  const stored = localStorage.getItem(storageKey);
  if (stored) return stored;
  const joined = await api("POST", `/api/rooms/${encodeURIComponent(code)}/join`, {
    body: { nickname: "Screen", role: "screen" },
  });
  if (!joined.ok) {
    showError(joined.code, joined.message);
    return null;
  }
  localStorage.setItem(storageKey, joined.data.token);
  return joined.data.token;
}

// -- the film -------------------------------------------------------------------------

function startFilm() {
  if (film) return;
  film = new FilmPlayer({ video: $("#film"), code, token: socket.token, socket });
  film.addEventListener("status", ({ detail: { state } }) => {
    $("#film").hidden = state !== "playing";
    document.body.classList.toggle("with-film", state === "playing");
  });
  film.addEventListener("sound", ({ detail: { muted } }) => {
    $("#sound").hidden = !muted;
  });
  film.start();
}

function stopFilm() {
  if (!film) return;
  film.stop();
  film = null;
  $("#film").hidden = true;
  $("#sound").hidden = true;
  document.body.classList.remove("with-film");
}

async function connect() {
  const token = await seat();
  if (!token) return;
  stopFilm(); // a new seat: the film renegotiates with its token
  if (socket) socket.stop();
  socket = new RoomSocket({ code, token, role: "screen" });
  socket.addEventListener("message", (event) => onMessage(event.detail));
  socket.addEventListener("status", (event) => onStatus(event.detail));
  socket.start();
}

async function boot() {
  $("#sound").addEventListener("click", () => film && film.unmute());
  if (!code) {
    showError("room-not-found");
    return;
  }
  const info = await api("GET", `/api/rooms/${encodeURIComponent(code)}`);
  if (!info.ok) {
    showError(info.code, info.message);
    return;
  }
  $("#room-code").textContent = info.data.code;
  $("#join-url").textContent = info.data.join_url.replace(/^https?:\/\//, "");
  $("#qr").src = `/api/rooms/${encodeURIComponent(info.data.code)}/qr.svg`;
  $("#film-title").textContent = info.data.title;
  setPresence(info.data.phones);
  await connect();
}

// -- slots later issues feed ----------------------------------------------------------

function signed(value) {
  return `${value > 0 ? "+" : value < 0 ? "−" : ""}${Math.abs(value).toFixed(2)}`;
}

/**
 * Show the room's mood (each `mood` message); hidden while no camera counts.
 * @param {{valence: number, arousal: number, engagement: number, viewers: number,
 *   participation?: number}} mood valence and arousal in [-1, 1], engagement in [0, 1],
 *   viewers: cameras averaged, participation: their share of the phones present
 */
export function renderMood({ valence, arousal, engagement, viewers, participation }) {
  $("#mood").dataset.viewers = String(viewers);
  if (!viewers) {
    $("#mood").hidden = true;
    return;
  }
  $("#mood-valence").value = valence;
  $("#mood-arousal").value = arousal;
  $("#mood-engagement").value = engagement;
  $("#mood-valence-value").textContent = signed(valence);
  $("#mood-arousal-value").textContent = signed(arousal);
  $("#mood-engagement-value").textContent = engagement.toFixed(2);
  const share = participation === undefined ? "" : ` · ${Math.round(participation * 100)}% of phones`;
  $("#mood-viewers").textContent = `${viewers} ${viewers === 1 ? "camera" : "cameras"} sharing their mood${share}`;
  $("#mood").hidden = false;
}

/** Mark the scene on show as AI-generated (or not): generated scenes must say so. */
function showAiLabel(generated) {
  $("#ai-label").hidden = !generated;
}

boot();
