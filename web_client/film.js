// The film over WebRTC, for the pages that play it: phones in `phones-play` rooms and
// screens. docs/protocol.md ("The film") is the contract; DESIGN.md ("Media") the why.
//
// Negotiation: the page offers to receive video and audio, with H.264 first
// (setCodecPreferences; constrained baseline first: the film is passed through as
// encoded, never re-encoded, so the answer must be H.264). aiortc does not trickle ICE,
// so the offer is posted once gathering is complete (or after GATHER_TIMEOUT_MS with
// what was gathered). The answer carries the film clock: {clock_rate, rtp_origin,
// film_epoch}, which maps a frame's RTP timestamp to the room-clock time it was due.
//
// Playout: every presented frame (requestVideoFrameCallback) gives an offset, the room
// time it is expected on the display minus the room time it was due; every REPORT_MS
// the median of those goes to the server as `playout`. Pages then hold the film to a
// common TARGET_OFFSET_S behind due time by steering the receivers' jitterBufferTarget,
// so every page shows a frame at about the same instant ("start playback on the room
// clock"): without it each page's delay is whatever its jitter buffer picked.
// A page's playout moves by whole video frames (33 ms at 30 fps), so an error under half
// a frame is left alone (STEER_DEADBAND, a little over half, so that noise around the
// half does not flip a page back and forth): steering it only made the page hunt a frame
// late and back every few seconds (bench/sync.py saw every page's offset jump by 33 ms
// and back). What stays is the display's own grid: a frame is shown at one of the
// screen's refreshes (16.7 ms apart at 60 Hz), and two screens' refreshes do not line up.
//
// Events: "status", detail {state, code?}: "connecting" | "playing" | "failed"
// (code: codec-unsupported | no-webrtc | network | …; the vote works regardless) |
// "closed"; "sound", detail {muted}.
//
// The camera, when the server analyses it, goes on a peer of its own
// (affect/camera_uplink.js): turning it on or off never renegotiates the film.

import { api } from "./api.js";

const GATHER_TIMEOUT_MS = 3000;
const REPORT_MS = 2000;
const MIN_FRAMES = 5; // fewer presented frames than this in a period: nothing to report
const TARGET_OFFSET_S = 0.25; // shown this long after due, on every page
const STEER_GAIN = 0.7; // of the error corrected per report (damped: no oscillation)
const DEFAULT_FRAME_S = 1 / 30; // until the film's own frame interval is measured
const STEER_DEADBAND = 0.6; // of a frame: smaller errors are not steered
const MAX_BUFFER_MS = 4000; // jitterBufferTarget's range in Chromium
const EPOCH_RETRY_MS = 2000;
const STALL_MS = 2000; // no frame for this long while playing: the peer is gone

/** Receive codecs in the order the page wants them: H.264 (constrained baseline first). */
export function preferH264(codecs) {
  const rank = (codec) => {
    const mime = codec.mimeType.toLowerCase();
    if (mime !== "video/h264") return /rtx|red|ulpfec|flexfec/.test(mime) ? 3 : 2;
    const fmtp = (codec.sdpFmtpLine || "").toLowerCase();
    const baseline = /profile-level-id=42e0/.test(fmtp) || /profile-level-id=42001f/.test(fmtp);
    const mode1 = /packetization-mode=1/.test(fmtp);
    return baseline && mode1 ? 0 : 1;
  };
  return codecs
    .map((codec, index) => ({ codec, index }))
    .sort((a, b) => rank(a.codec) - rank(b.codec) || a.index - b.index)
    .map(({ codec }) => codec);
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const BASE_VOLUME = 0.5; // -6 dB: the headroom a variant's positive music gain plays into

export class FilmPlayer extends EventTarget {
  /**
   * @param {object} options
   * @param {HTMLVideoElement} options.video where the film plays
   * @param {string} options.code room code
   * @param {string} options.token the page's token (the same as in `hello`)
   * @param {import("./room_socket.js").RoomSocket} options.socket for the room clock and reports
   */
  constructor({ video, code, token, socket }) {
    super();
    this.video = video;
    this.code = code;
    this.token = token;
    this.socket = socket;
    this.pc = null;
    this.state = "idle";
    this.clock = null; // {clock_rate, rtp_origin, film_epoch}
    this.offsets = []; // seconds, since the last report
    this.steps = []; // seconds between consecutive frames' RTP timestamps, since the last report
    this.lastRtp = null;
    this.frameS = DEFAULT_FRAME_S;
    this.lastOffset = null;
    this.framesShown = 0;
    this.lastFrameAt = 0;
    this.bufferMs = 0;
    this._reportTimer = null;
    this._epochTimer = null;
    this._frameCallback = null;
    this._attempt = 0;
    this._onSocketStatus = (event) => {
      if (event.detail.state === "open" && this._needsRestart()) this.start();
    };
    socket.addEventListener("status", this._onSocketStatus);
    this.setMusicGain(0);
  }

  /**
   * The scene's music gain (`state.music_gain_db`, from an adaptive variant: a nervous
   * room gets the tense scene louder). The film's sound is one mix, so the gain sets the
   * element's volume around a base of -6 dB, which leaves room for up to +6 dB.
   */
  setMusicGain(db) {
    const gain = 10 ** ((Number(db) || 0) / 20);
    this.video.volume = Math.min(1, Math.max(0, BASE_VOLUME * gain));
  }

  /** Negotiate (again): a fresh peer connection replaces any old one. Never throws. */
  async start() {
    const attempt = ++this._attempt;
    this._closePeer();
    try {
      await this._negotiate(attempt);
    } catch (error) {
      if (attempt !== this._attempt) return;
      this._closePeer();
      this._status("failed", error && error.name === "NotSupportedError" ? "codec-unsupported" : "webrtc");
    }
  }

  async _negotiate(attempt) {
    if (typeof RTCPeerConnection === "undefined" || !RTCRtpReceiver.getCapabilities) {
      return this._status("failed", "no-webrtc");
    }
    const capabilities = RTCRtpReceiver.getCapabilities("video");
    const codecs = preferH264(capabilities ? capabilities.codecs : []);
    if (!codecs.length || codecs[0].mimeType.toLowerCase() !== "video/h264") {
      return this._status("failed", "codec-unsupported");
    }
    this._status("connecting");
    const config = await api("GET", "/api/webrtc/config");
    if (attempt !== this._attempt) return;
    const iceServers = config.ok ? config.data.ice_servers : [];
    const pc = new RTCPeerConnection({ iceServers });
    this.pc = pc;
    const stream = new MediaStream();
    const video = pc.addTransceiver("video", { direction: "recvonly" });
    video.setCodecPreferences(codecs);
    pc.addTransceiver("audio", { direction: "recvonly" });
    pc.addEventListener("track", (event) => {
      stream.addTrack(event.track);
      if (this.video.srcObject !== stream) this.video.srcObject = stream;
    });
    pc.addEventListener("connectionstatechange", () => {
      if (pc !== this.pc) return;
      if (pc.connectionState === "failed") this._status("failed", "network");
    });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc, GATHER_TIMEOUT_MS);
    if (attempt !== this._attempt) return;
    const answer = await api("POST", `/api/rooms/${encodeURIComponent(this.code)}/webrtc`, {
      body: { type: "offer", sdp: pc.localDescription.sdp },
      token: this.token,
    });
    if (attempt !== this._attempt) return;
    if (!answer.ok) {
      this._closePeer();
      return this._status("failed", answer.code);
    }
    if (!answer.data.film) {
      this._closePeer();
      return this._status("closed", "no-film"); // this page gets no film (big-screen phone)
    }
    this.clock = answer.data.film;
    await pc.setRemoteDescription({ type: "answer", sdp: answer.data.sdp });
    this._watchFrames();
    this._reportTimer = setInterval(() => this._report(), REPORT_MS);
    if (this.clock.film_epoch === null) this._fetchEpoch(attempt);
    await this._play();
  }

  /** Sound on: call from a user gesture (a tap), which is what lets audio play. */
  async unmute() {
    this.video.muted = false;
    try {
      await this.video.play();
    } catch {
      this.video.muted = true;
    }
    this._sound();
  }

  /** Stop for good (the screening ended or the page leaves). */
  stop() {
    this._attempt += 1;
    this.socket.removeEventListener("status", this._onSocketStatus);
    this._closePeer();
    this._status("closed");
  }

  /** After the socket came back: was the peer lost with it (a server restart)? */
  _needsRestart() {
    if (this.state === "closed" || this.state === "idle") return false;
    const pc = this.pc;
    if (!pc || ["failed", "closed", "disconnected"].includes(pc.connectionState)) return true;
    // ICE notices a dead server only after seconds; a film that stopped moving is enough.
    return this.state === "playing" && this.framesShown > 0 && performance.now() - this.lastFrameAt > STALL_MS;
  }

  async _play() {
    // Muted autoplay always works; sound needs a user gesture: a phone's join tap counts
    // (sticky activation), a screen's "Sound on" button does it later.
    const active = navigator.userActivation ? navigator.userActivation.hasBeenActive : false;
    this.video.muted = !active;
    try {
      await this.video.play();
    } catch {
      this.video.muted = true;
      try {
        await this.video.play();
      } catch {
        /* a later gesture (Sound on) plays it */
      }
    }
    this._sound();
    this._status("playing");
  }

  _watchFrames() {
    const video = this.video;
    if (!("requestVideoFrameCallback" in HTMLVideoElement.prototype)) return;
    const onFrame = (_now, meta) => {
      if (this._frameCallback !== onFrame) return;
      this.framesShown += 1;
      this.lastFrameAt = performance.now();
      const offset = this._offset(meta);
      if (offset !== null) {
        this.offsets.push(offset);
        this.lastOffset = offset;
      }
      this._frameStep(meta);
      video.requestVideoFrameCallback(onFrame);
    };
    this._frameCallback = onFrame;
    video.requestVideoFrameCallback(onFrame);
  }

  /** Room time the frame is shown minus room time it was due, in seconds; null: unknown. */
  _offset(meta) {
    const clock = this.clock;
    if (!clock || clock.film_epoch === null || meta.rtpTimestamp === undefined) return null;
    if (!this.socket.clock.synced) return null;
    const ticks = (meta.rtpTimestamp - clock.rtp_origin) >>> 0; // mod 2^32
    const due = clock.film_epoch + ticks / clock.clock_rate;
    const shownAt = (meta.expectedDisplayTime ?? meta.presentationTime) / 1000;
    const offset = this.socket.clock.roomNow(shownAt) - due;
    return Number.isFinite(offset) && Math.abs(offset) < 60 ? offset : null;
  }

  /** The film's frame interval: the median step between consecutive RTP timestamps. */
  _frameStep(meta) {
    const clock = this.clock;
    if (!clock || meta.rtpTimestamp === undefined) return;
    if (this.lastRtp !== null) {
      const step = ((meta.rtpTimestamp - this.lastRtp) >>> 0) / clock.clock_rate;
      if (step > 0 && step < 0.5) this.steps.push(step);
    }
    this.lastRtp = meta.rtpTimestamp;
  }

  _report() {
    const offsets = this.offsets;
    this.offsets = [];
    if (this.steps.length >= MIN_FRAMES) this.frameS = median(this.steps);
    this.steps = [];
    if (offsets.length < MIN_FRAMES) return;
    const offset = median(offsets);
    this.socket.send({ type: "playout", offset_ms: Math.round(offset * 10000) / 10, frames: offsets.length });
    this._steer(offset);
  }

  /** Move the receivers' buffering so the offset approaches TARGET_OFFSET_S; an error
   * under about half a frame cannot be corrected (playout moves by whole frames). */
  _steer(offset) {
    const receivers = this.pc ? this.pc.getReceivers() : [];
    if (!receivers.length || !("jitterBufferTarget" in receivers[0])) return;
    if (Math.abs(TARGET_OFFSET_S - offset) < this.frameS * STEER_DEADBAND) return;
    const wanted = this.bufferMs + (TARGET_OFFSET_S - offset) * 1000 * STEER_GAIN;
    this.bufferMs = Math.round(Math.min(MAX_BUFFER_MS, Math.max(0, wanted)));
    for (const receiver of receivers) receiver.jitterBufferTarget = this.bufferMs;
  }

  async _fetchEpoch(attempt) {
    while (attempt === this._attempt && this.clock && this.clock.film_epoch === null) {
      await new Promise((resolve) => {
        this._epochTimer = setTimeout(resolve, EPOCH_RETRY_MS);
      });
      if (attempt !== this._attempt) return;
      const got = await api("GET", `/api/rooms/${encodeURIComponent(this.code)}/webrtc/film`, {
        token: this.token,
      });
      if (got.ok && attempt === this._attempt && this.clock) this.clock.film_epoch = got.data.film_epoch;
    }
  }

  _closePeer() {
    clearInterval(this._reportTimer);
    clearTimeout(this._epochTimer);
    this._frameCallback = null;
    this.offsets = [];
    this.steps = [];
    this.lastRtp = null;
    this.bufferMs = 0;
    if (this.pc) {
      this.pc.close();
      this.pc = null;
    }
    if (this.video.srcObject) {
      this.video.pause();
      this.video.srcObject = null;
    }
  }

  _status(state, code = null) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("status", { detail: { state, code } }));
  }

  _sound() {
    this.dispatchEvent(new CustomEvent("sound", { detail: { muted: this.video.muted } }));
  }
}

/** Resolve when ICE gathering is complete, or after `timeoutMs` with what was gathered. */
export function gathered(pc, timeoutMs) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    };
    const check = () => pc.iceGatheringState === "complete" && done();
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener("icegatheringstatechange", check);
  });
}
