// The phone page (/phone, and /j/CODE from the QR code): join a room, follow the scene,
// vote, and opt in to the camera. docs/protocol.md is the contract it speaks.
//
// What the page keeps in localStorage, per room code, so a reload or a dropped network
// loses nothing:
//   kinoroom.nickname          the name typed last time
//   kinoroom.phone.<CODE>      the seat {device, token, nickname}: reconnecting with the
//                              same token keeps the seat and its live vote
//   kinoroom.seq.<CODE>        the last vote seq used; the server refuses a lower one
//   kinoroom.pending.<CODE>    the vote sent but not yet acked; re-sent with the SAME seq
//                              after a reconnect while its choice is open (an equal seq
//                              is acked again as the same vote, so re-sending is safe)
//
// The film: in a `phones-play` room (welcome.mode) the phone plays it in #film over
// WebRTC (film.js), muted until the viewer's tap allows sound (#sound). In a
// `big-screen` room the phone is a controller and gets no film. A film that cannot play
// shows a notice (#film-notice); the vote works either way.
//
// The camera: off until the viewer turns the switch on (phone_camera.js says what
// happens then). While it runs, "● Camera on" shows.

import { api } from "./api.js";
import { BallotForm } from "./ballot.js";
import { pageNow } from "./clock.js";
import { $, formatSeconds, h, showView } from "./dom.js";
import { explain } from "./errors.js";
import { FilmPlayer } from "./film.js";
import { stopCamera, toggleCamera } from "./phone_camera.js";
import { normalizeCode } from "./protocol.js";
import { RoomSocket } from "./room_socket.js";
import { showWords } from "./words.js";

const NICKNAME = "kinoroom.nickname";
const seatKey = (code) => `kinoroom.phone.${code}`;
const seqKey = (code) => `kinoroom.seq.${code}`;
const pendingKey = (code) => `kinoroom.pending.${code}`;
// When this page's clock started: a stored vote's `cast_t` (a time on the page clock, as
// its pings' t0) means nothing to a reloaded page, whose clock starts again at 0.
const CLOCK_ORIGIN = performance.timeOrigin;

// Storage may be off (private mode, full quota): the page still works, it just forgets.
const store = {
  get(key) {
    try {
      return JSON.parse(localStorage.getItem(key));
    } catch {
      return null;
    }
  },
  set(key, value) {
    try {
      localStorage.setItem(key, typeof value === "string" ? value : JSON.stringify(value));
    } catch {
      /* forgetting is the fallback */
    }
  },
  drop(key) {
    try {
      localStorage.removeItem(key);
    } catch {
      /* nothing to drop */
    }
  },
  text(key) {
    try {
      return localStorage.getItem(key) || "";
    } catch {
      return "";
    }
  },
};

const HINTS = {
  option: "Tap your choice. You can change it until the time runs out.",
  ranking: "Tap the options in order of preference, favourite first. Tap again to remove one.",
  approve: "Tap every option you would be happy with, then send.",
};
const RECEIVED = "Vote received ✓";

let room = null; // {code, seat, socket}
let vote = null; // the open vote_open message
let form = null; // its BallotForm
let pending = null; // the unacked vote message
// ?analysis=server|device forces a path (read before the URL becomes /j/CODE)
let film = null; // the FilmPlayer, in phones-play rooms

// -- notices ---------------------------------------------------------------------------

function notice(box, { title, next }) {
  box.querySelector("strong").textContent = title;
  box.querySelector("span").textContent = next || "";
  box.hidden = false;
}

function showError(code, message) {
  notice($("#error"), explain(code, message));
}

function hideError() {
  $("#error").hidden = true;
}

// -- joining ---------------------------------------------------------------------------

function boot() {
  const fromPath = location.pathname.match(/^\/j\/([^/]+)/);
  const code = fromPath ? normalizeCode(decodeURIComponent(fromPath[1])) : "";
  $("#code").value = code;
  $("#nickname").value = store.text(NICKNAME);
  $("#join-form").addEventListener("submit", (event) => {
    event.preventDefault();
    join();
  });
  $("#reconnect").addEventListener("click", () => room && room.socket.start());
  $("#send-vote").addEventListener("click", castVote);
  $("#camera-toggle").addEventListener("click", () => toggleCamera(room));
  $("#sound").addEventListener("click", () => film && film.unmute());
  const seat = code && store.get(seatKey(code));
  if (seat && seat.token) enter(code, seat);
  else {
    showView("join");
    (code ? $("#nickname") : $("#code")).focus();
  }
  setInterval(tick, 250);
}

async function join() {
  const code = normalizeCode($("#code").value);
  const nickname = $("#nickname").value.trim();
  $("#code").value = code;
  hideError();
  if (!code) return notice($("#error"), { title: "Type the room code first.", next: "It is on the big screen." });
  if (!nickname) return notice($("#error"), { title: "Type your name first.", next: "Any name will do." });
  store.set(NICKNAME, nickname);
  const stored = store.get(seatKey(code));
  if (stored && stored.token) return enter(code, stored);
  const button = $("#join");
  button.disabled = true;
  button.textContent = "Joining…";
  const result = await api("POST", `/api/rooms/${encodeURIComponent(code)}/join`, {
    body: { nickname, role: "phone" },
  });
  button.disabled = false;
  button.textContent = "Join";
  if (!result.ok) return showError(result.code, result.message);
  const seat = { device: result.data.device, token: result.data.token, nickname };
  store.set(seatKey(result.data.room), seat);
  enter(result.data.room, seat);
}

function enter(code, seat) {
  hideError();
  if (location.pathname !== `/j/${code}`) history.replaceState(null, "", `/j/${code}${location.search}`);
  showView("room");
  const socket = new RoomSocket({ code, token: seat.token, role: "phone" });
  room = { code, seat, socket };
  socket.addEventListener("status", (event) => onStatus(event.detail));
  socket.addEventListener("message", (event) => onMessage(event.detail));
  socket.start();
}

/** Back to the form: the seat is gone (bad token, room gone). */
function leave(code) {
  store.drop(seatKey(room.code));
  store.drop(pendingKey(room.code));
  stopCamera();
  room.socket.stop();
  room = null;
  stopFilm();
  closeVote();
  showView("join");
  showError(code);
}

// -- the socket ------------------------------------------------------------------------

function onStatus({ state, code }) {
  const box = $("#connection");
  $("#reconnect").hidden = true;
  if (state === "open" || (state === "gone" && code === "closed")) {
    box.hidden = true;
  } else if (state === "connecting" || state === "reconnecting") {
    const title = state === "connecting" ? "Connecting…" : "Reconnecting…";
    notice(box, { title, next: state === "reconnecting" ? "Your seat and your vote are kept." : "" });
  } else if (["bad-token", "room-not-found", "unknown-device"].includes(code)) {
    leave(code);
  } else {
    notice(box, explain(code));
    $("#reconnect").hidden = code === "protocol-version";
  }
}

function onMessage(message) {
  switch (message.type) {
    case "welcome":
      return onWelcome(message);
    case "state":
      return applyState(message);
    case "vote_open":
      return openVote(message);
    case "vote_ack":
      return onAck(message);
    case "vote_rejected":
      return onRejected(message);
    case "tally":
      return showTally(message);
    case "decision":
      return showDecision(message);
    case "presence":
      return showPresence(message);
    case "ended":
      return showEnded();
    case "error":
      // Socket-level faults (bad-token…) end in a "gone" status; the rest are shown.
      if (!["bad-token", "room-not-found", "protocol-version"].includes(message.code)) {
        showError(message.code, message.message);
      }
  }
}

function onWelcome(welcome) {
  hideError();
  const { code } = room;
  $("#room-title").textContent = welcome.title;
  document.title = `${welcome.title} · Kinoroom`;
  room.seat = { ...room.seat, device: welcome.device, nickname: welcome.nickname };
  store.set(seatKey(code), room.seat);
  if (welcome.mode === "phones-play") startFilm();
  const live = welcome.your_vote;
  const seq = Math.max(Number(store.get(seqKey(code))) || 0, live ? live.seq : 0);
  store.set(seqKey(code), seq);
  const fresh = applyState(welcome.state);
  if (fresh && live && vote && live.choice === vote.choice) {
    form.load(live);
    renderOptions();
    voteStatus("acked", RECEIVED);
  }
  pending = ownClock(store.get(pendingKey(code)));
  if (!pending) return;
  if (!vote || pending.choice !== vote.choice) {
    // The window closed while the vote was in flight: it may or may not have counted.
    store.drop(pendingKey(code));
    pending = null;
    notice($("#error"), { title: "Your last vote may have arrived too late.", next: "The vote closed while you were offline." });
  } else if (live && live.choice === pending.choice && live.seq >= pending.seq) {
    store.drop(pendingKey(code)); // committed before the drop: the ack was what got lost
    pending = null;
  } else {
    form.load(pending);
    renderOptions();
    voteStatus("sent", "Sending…");
    room.socket.send(pending);
  }
}

/** Resync from a `state`; true when it opened a vote card afresh. */
function applyState(state) {
  if (film) film.setMusicGain(state.music_gain_db);
  $("#ai-label").hidden = !state.generated; // a generated fill-in scene says so while it plays
  if (state.phase === "ended") {
    showEnded();
    return false;
  }
  showWords($("#words"), state.phase === "playing" ? state.text : null, { caption: Boolean(state.media) });
  $("#scene-title").textContent =
    state.phase === "waiting" || !state.scene ? "Waiting for the host to start"
      : state.text ? "" : prettify(state.scene); // a text scene is its words
  if (state.vote) return openVote(state.vote);
  closeVote();
  return false;
}

function prettify(id) {
  const words = String(id).replace(/[-_]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function showPresence({ phones }) {
  $("#presence").textContent = `${phones} ${phones === 1 ? "phone" : "phones"}`;
}

function showEnded() {
  showWords($("#words"), null);
  closeVote();
  stopCamera();
  stopFilm();
  if (room) {
    store.drop(pendingKey(room.code));
    room.socket.stop();
  }
  hideError();
  showView("ended");
}

// -- the vote card ---------------------------------------------------------------------

/** Show a vote; true when it is a new one (a fresh, empty form). */
function openVote(message) {
  if (vote && vote.choice === message.choice && vote.opens_at === message.opens_at) {
    vote = message;
    return false;
  }
  vote = message;
  form = new BallotForm(message.ballot, message.options.map((o) => o.id));
  hideError();
  $("#decision").hidden = true;
  $("#vote-prompt").textContent = message.prompt;
  $("#vote-hint").textContent = HINTS[message.ballot];
  $("#options").replaceChildren(
    ...message.options.map((option) =>
      h(
        "button",
        { type: "button", class: "option", dataset: { option: option.id }, onclick: () => tap(option.id) },
        h("span", { class: "rank", "aria-hidden": "true" }),
        h("span", { class: "label" }, option.label),
      ),
    ),
  );
  $("#send-vote").hidden = message.ballot === "option";
  $("#tally").hidden = true;
  voteStatus("", "");
  renderOptions();
  $("#vote").hidden = false;
  tick();
  return true;
}

function closeVote() {
  vote = null;
  form = null;
  $("#vote").hidden = true;
}

function renderOptions() {
  for (const button of document.querySelectorAll("#options .option")) {
    const id = button.dataset.option;
    const rank = form.rank(id);
    const label = button.querySelector(".label").textContent;
    button.setAttribute("aria-pressed", String(form.isPicked(id)));
    button.querySelector(".rank").textContent = rank ? String(rank) : "";
    if (rank) button.setAttribute("aria-label", `${label}, choice ${rank}`);
    else button.removeAttribute("aria-label");
  }
  $("#send-vote").disabled = !form.ready;
}

function tap(id) {
  if (!form) return;
  const sendNow = form.tap(id);
  renderOptions();
  if (sendNow) castVote();
  else voteStatus("draft", form.ready ? "Tap “Send vote” when you are done." : "");
}

function castVote() {
  if (!vote || !form || !form.ready) return;
  const { code } = room;
  const seq = (Number(store.get(seqKey(code))) || 0) + 1;
  store.set(seqKey(code), seq);
  // The tap's time on the page clock: a vote the network delivers just after the close
  // still counts (docs/protocol.md, "vote").
  pending = { ...form.message(vote.choice, seq), cast_t: pageNow() };
  store.set(pendingKey(code), { ...pending, clock: CLOCK_ORIGIN });
  voteStatus("sent", "Sending…");
  room.socket.send(pending); // false while reconnecting: the welcome re-sends it
}

/** A stored unacked vote, as this page may send it again (its cast_t only on its own clock). */
function ownClock(stored) {
  if (!stored) return null;
  const { clock, ...message } = stored;
  if (clock !== CLOCK_ORIGIN) delete message.cast_t;
  return message;
}

function onAck(ack) {
  if (!pending || ack.choice !== pending.choice || ack.seq !== pending.seq) return;
  store.drop(pendingKey(room.code));
  pending = null;
  if (vote && vote.choice === ack.choice) voteStatus("acked", RECEIVED);
}

function onRejected(rejected) {
  if (pending && rejected.choice === pending.choice && rejected.seq === pending.seq) {
    store.drop(pendingKey(room.code));
    pending = null;
  }
  const { title, next } = explain(rejected.code);
  if (vote && vote.choice === rejected.choice) voteStatus("rejected", `${title} ${next}`);
  else notice($("#error"), { title, next });
}

function voteStatus(state, text) {
  const status = $("#vote-status");
  status.dataset.state = state;
  status.textContent = text;
}

function showTally(tally) {
  if (!vote || tally.choice !== vote.choice) return;
  const box = $("#tally");
  const top = Math.max(0, ...Object.values(tally.scores));
  box.replaceChildren(
    ...vote.options.map((option) => {
      const score = tally.scores[option.id] || 0;
      return h(
        "div",
        { class: score > 0 && score === top ? "bar win" : "bar" },
        h("div", { class: "fill", style: `width:${top > 0 ? (100 * score) / top : 0}%` }),
        h("div", { class: "text" }, h("span", {}, option.label), h("span", {}, String(score))),
      );
    }),
  );
  box.hidden = false;
}

function showDecision(decision) {
  // The server re-sends the last decision after welcome: an older choice than an open
  // vote is history, not news.
  if (vote && vote.choice !== decision.choice) return;
  closeVote();
  $("#decision-label").textContent = decision.label;
  $("#decision-reason").textContent = decision.reason;
  $("#decision").hidden = false;
}

/** The countdown runs on the room clock, so every phone reaches 0 together. */
function tick() {
  if (!vote || !room) return;
  const now = room.socket.roomNow();
  const left = now === null ? vote.closes_at - vote.opens_at : vote.closes_at - now;
  $("#countdown").textContent = formatSeconds(left);
  $("#vote").dataset.closing = String(left <= 5);
}

// -- the film --------------------------------------------------------------------------

const FILM_PROBLEMS = {
  "codec-unsupported": "This browser cannot play the film's video format (H.264).",
  "no-webrtc": "This browser cannot receive the film.",
  network: "The film's connection dropped.",
};

function startFilm() {
  if (film || !room) return;
  film = new FilmPlayer({ video: $("#film"), code: room.code, token: room.seat.token, socket: room.socket });
  film.addEventListener("status", ({ detail: { state, code } }) => {
    $("#film").hidden = state !== "playing" && state !== "connecting";
    const box = $("#film-notice");
    box.hidden = state !== "failed";
    if (state === "failed") {
      box.textContent = `${FILM_PROBLEMS[code] || "The film cannot play here."} You can still vote.`;
    }
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
}

boot();
