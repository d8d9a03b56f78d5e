// The camera's analysis while the viewer has it on: which path runs, and stopping it.
//
// - **On the phone** (the default where the browser can: WebAssembly, the vendored
//   MediaPipe library and the model load): ondevice.js analyses the preview and sends
//   `affect` numbers over the room socket.
// - **By the server** (otherwise, or with `?analysis=server` on the page's URL):
//   camera_uplink.js sends the 320×240 camera track over WebRTC.
// `?analysis=device` forces the first (no fallback: for tests and for viewers who
// want their picture never to leave the phone).
//
// Events: "status", detail {state, message?}: "starting" | "device" | "server" |
// "failed" | "off"; "reading", detail: an on-device reading (numbers only).

import { CameraUplink } from "./camera_uplink.js";
import { createLandmarker, supported } from "./landmarker.js";
import { OnDeviceAnalysis } from "./ondevice.js";

export const MODES = ["auto", "device", "server"];

export class AffectSession extends EventTarget {
  /**
   * @param {object} options
   * @param {string} options.code room code
   * @param {string} options.token the page's token
   * @param {{send: (message: object) => boolean}} options.socket the room socket
   * @param {HTMLVideoElement} options.preview where the camera shows (and is read from)
   * @param {"auto" | "device" | "server"} [options.mode]
   */
  constructor({ code, token, socket, preview, mode = "auto" }) {
    super();
    this.code = code;
    this.token = token;
    this.socket = socket;
    this.preview = preview;
    this.mode = MODES.includes(mode) ? mode : "auto";
    this.state = "off";
    this.device = null; // OnDeviceAnalysis
    this.uplink = null; // CameraUplink
    this.landmarker = null;
    this._run = 0;
  }

  /** Analyse `stream` (the camera is on). Never throws: failures end in status "failed". */
  async start(stream) {
    const run = ++this._run;
    this._status("starting");
    this.preview.srcObject = stream;
    this.preview.muted = true;
    this.preview.playsInline = true;
    this.preview.play().catch(() => {
      /* muted autoplay: only a detached or stopped stream refuses, and stop() follows */
    });
    if (this.mode !== "server" && supported()) {
      try {
        const landmarker = await createLandmarker();
        if (run !== this._run) return landmarker.close();
        this.landmarker = landmarker;
        const device = new OnDeviceAnalysis({
          video: this.preview,
          landmarker,
          send: (message) => this.socket.send(message),
        });
        device.addEventListener("reading", ({ detail }) => this.dispatchEvent(new CustomEvent("reading", { detail })));
        device.addEventListener("failed", ({ detail }) => {
          if (run !== this._run) return;
          console.warn("on-device analysis stopped:", detail.error);
          this._dropDevice();
          if (this.mode === "device") this._status("failed", "analysis stopped");
          else this._serverPath(stream, run);
        });
        this.device = device.start();
        return this._status("device");
      } catch (error) {
        if (run !== this._run) return;
        console.warn("on-device analysis is unavailable here:", error);
      }
    }
    if (this.mode === "device") return this._status("failed", "on-device analysis is unavailable");
    return this._serverPath(stream, run);
  }

  /** Stop everything: analysis, the uplink (its transceiver and peer), the preview. */
  stop() {
    this._run += 1;
    this._dropDevice();
    if (this.uplink) {
      this.uplink.stop();
      this.uplink = null;
    }
    this.preview.pause();
    this.preview.srcObject = null;
    this._status("off");
  }

  async _serverPath(stream, run) {
    const track = stream.getVideoTracks()[0];
    if (!track) return this._status("failed", "no camera track");
    const uplink = new CameraUplink({ code: this.code, token: this.token });
    this.uplink = uplink;
    uplink.addEventListener("failed", () => run === this._run && this._status("failed", "connection lost"));
    try {
      await uplink.start(track);
    } catch (error) {
      if (run !== this._run) return;
      this.uplink = null;
      return this._status("failed", error.message);
    }
    if (run === this._run) this._status("server");
  }

  _dropDevice() {
    if (this.device) this.device.stop();
    this.device = null;
    if (this.landmarker) this.landmarker.close();
    this.landmarker = null;
  }

  _status(state, message = null) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("status", { detail: { state, message } }));
  }
}
