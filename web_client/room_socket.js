// One page's WebSocket to its room: hello, clock sync, reconnects (docs/protocol.md).
//
// Events: "message" (detail: a server message), "status" (detail: {state, code?}) with
// state "connecting" | "open" | "reconnecting" | "gone". Reconnects with the same token
// after a drop, backing off from 0.25 s to 4 s with jitter, and gives up after 12 tries
// (the page then offers a button that calls `start()` again).

import { ClockSync, pageNow } from "./clock.js";
import { CLOSE, PROTOCOL_VERSION, STAY_AWAY, socketUrl } from "./protocol.js";

const BURST = 8;
const PING_EVERY_MS = 10_000;
const MAX_TRIES = 12;

// Why a socket closed for good, as an error code the page can explain.
const GONE_CODES = {
  [CLOSE.BAD_TOKEN]: "bad-token",
  [CLOSE.ROOM_NOT_FOUND]: "room-not-found",
  [CLOSE.PROTOCOL_VERSION]: "protocol-version",
  [CLOSE.RATE_LIMITED]: "rate-limited",
};

export class RoomSocket extends EventTarget {
  constructor({ code, token, role }) {
    super();
    this.code = code;
    this.token = token;
    this.role = role;
    this.clock = new ClockSync();
    this.ws = null;
    this.tries = 0;
    this.state = "idle";
    this.welcome = null;
    this._pingId = 0;
    this._burstLeft = 0;
    this._pingTimer = null;
    this._retryTimer = null;
    this._stayAway = false;
    this._goneCode = null;
  }

  start() {
    clearTimeout(this._retryTimer);
    this._stayAway = false;
    this.tries = 0;
    this._connect();
  }

  /** Close for good (the page is leaving the room). */
  stop() {
    this._stayAway = true;
    clearTimeout(this._retryTimer);
    clearInterval(this._pingTimer);
    if (this.ws) this.ws.close(CLOSE.NORMAL, "page left");
  }

  /** Send a message; false when the socket is not open (the caller keeps what matters). */
  send(message) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN || this.state !== "open") return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  roomNow() {
    return this.clock.roomNow();
  }

  _status(state, code = null) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("status", { detail: { state, code } }));
  }

  _connect() {
    this._status(this.tries === 0 ? "connecting" : "reconnecting");
    const ws = new WebSocket(socketUrl(this.code));
    this.ws = ws;
    this._goneCode = null;
    ws.addEventListener("open", () => {
      ws.send(JSON.stringify({
        type: "hello", protocol: PROTOCOL_VERSION, role: this.role, token: this.token,
        client: navigator.userAgent.slice(0, 200), t0: pageNow(),
      }));
    });
    ws.addEventListener("message", (event) => this._receive(event.data));
    ws.addEventListener("close", (event) => this._closed(ws, event.code));
    // A failed connection also fires "close" (code 1006), where the retry happens.
    ws.addEventListener("error", () => {});
  }

  _receive(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return; // the server only sends JSON; anything else is not ours to show
    }
    switch (message.type) {
      case "welcome":
        this.welcome = message;
        this.tries = 0;
        this.clock.coarse(message.now);
        this._status("open");
        this._burstLeft = BURST;
        this._ping();
        clearInterval(this._pingTimer);
        this._pingTimer = setInterval(() => this._ping(), PING_EVERY_MS);
        break;
      case "pong":
        this.clock.pong(message);
        if (this._burstLeft > 0) this._ping();
        return; // clock traffic is the socket's own business
      case "bye":
        if (!message.reconnect) this._stayAway = true;
        break;
      case "error":
        if (["bad-token", "room-not-found", "protocol-version"].includes(message.code)) {
          this._goneCode = message.code;
        }
        break;
    }
    this.dispatchEvent(new CustomEvent("message", { detail: message }));
  }

  _ping() {
    if (this._burstLeft > 0) this._burstLeft -= 1;
    this._pingId += 1;
    this.send({ type: "ping", id: this._pingId, t0: pageNow() });
  }

  _closed(ws, code) {
    if (ws !== this.ws) return;
    clearInterval(this._pingTimer);
    if (this._stayAway || STAY_AWAY.has(code)) {
      this._status("gone", this._goneCode || GONE_CODES[code] || (code === CLOSE.NORMAL ? "closed" : "lost"));
      return;
    }
    this.tries += 1;
    if (this.tries > MAX_TRIES) {
      this._status("gone", "lost");
      return;
    }
    this._status("reconnecting");
    const cap = Math.min(4, 0.25 * 2 ** (this.tries - 1));
    const delay = cap - Math.random() * cap * 0.5;
    this._retryTimer = setTimeout(() => this._connect(), delay * 1000);
  }
}
