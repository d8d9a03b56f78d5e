// The server path: the camera goes to the server over WebRTC, at 320×240, and the
// server analyses it (the phone could not: no WebAssembly, no vendored library, or the
// page was told `?analysis=server`).
//
// A peer of its own, apart from the film's (film.js): it offers one sendonly video
// section, posted to POST /api/rooms/{code}/webrtc with `"purpose": "camera"`, so
// turning the camera on or off never touches the film. stop() stops the transceiver,
// closes the peer and tells the server to drop its side at once
// (DELETE /api/rooms/{code}/webrtc/camera) instead of waiting for ICE to notice.

import { api } from "../api.js";
import { gathered } from "../film.js";

const GATHER_TIMEOUT_MS = 3000;
const WIDTH = 320;
const HEIGHT = 240;
const MAX_BITRATE = 250_000; // bits/s: plenty for a face at 320×240
const MAX_FRAMERATE = 15; // the server analyses 2–4 a second and samples skin at ≥ 8

export class CameraUplink extends EventTarget {
  constructor({ code, token }) {
    super();
    this.code = code;
    this.token = token;
    this.pc = null;
    this.transceiver = null;
  }

  /** Send `track` to the server; rejects with an Error whose `code` says why. */
  async start(track) {
    if (typeof RTCPeerConnection === "undefined") throw Object.assign(new Error("no WebRTC"), { code: "no-webrtc" });
    const config = await api("GET", "/api/webrtc/config");
    const pc = new RTCPeerConnection({ iceServers: config.ok ? config.data.ice_servers : [] });
    this.pc = pc;
    const { width = WIDTH, height = HEIGHT } = track.getSettings();
    const scaleResolutionDownBy = Math.max(1, width / WIDTH, height / HEIGHT);
    this.transceiver = pc.addTransceiver(track, {
      direction: "sendonly",
      sendEncodings: [{ maxBitrate: MAX_BITRATE, maxFramerate: MAX_FRAMERATE, scaleResolutionDownBy }],
    });
    pc.addEventListener("connectionstatechange", () => {
      if (pc === this.pc && pc.connectionState === "failed") {
        this.dispatchEvent(new CustomEvent("failed", { detail: { code: "network" } }));
      }
    });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc, GATHER_TIMEOUT_MS);
    if (pc !== this.pc) return; // stopped meanwhile
    const answer = await api("POST", `/api/rooms/${encodeURIComponent(this.code)}/webrtc`, {
      body: { type: "offer", sdp: pc.localDescription.sdp, purpose: "camera" },
      token: this.token,
    });
    if (pc !== this.pc) return;
    if (!answer.ok) {
      this.stop({ tellServer: false });
      throw Object.assign(new Error(answer.message || answer.code), { code: answer.code });
    }
    await pc.setRemoteDescription({ type: "answer", sdp: answer.data.sdp });
  }

  stop({ tellServer = true } = {}) {
    const pc = this.pc;
    this.pc = null;
    if (!pc) return;
    if (this.transceiver && pc.signalingState !== "closed") {
      try {
        this.transceiver.stop();
      } catch {
        /* already stopped with the peer */
      }
    }
    this.transceiver = null;
    pc.close();
    if (tellServer) {
      api("DELETE", `/api/rooms/${encodeURIComponent(this.code)}/webrtc/camera`, { token: this.token });
    }
  }
}
