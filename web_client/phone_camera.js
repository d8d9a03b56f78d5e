// The phone's camera switch (#camera-toggle). Off until the viewer turns it on (the
// panel says what happens to the picture). Then it asks for the front camera, dispatches
//   document "camera" CustomEvent, detail {stream: MediaStream | null}
// with the live stream (and null when it stops), and starts the affect analysis
// (affect/session.js): on the phone itself where it can (only numbers are sent), else
// by the server (the camera goes to it at 320×240 over WebRTC). #camera-path says
// which; `?analysis=server` or `?analysis=device` on the URL forces one. Each on-device
// reading is also dispatched as document "affect-reading" (detail: numbers only).
// While either runs, "● Camera on" shows; one tap on the switch stops the tracks, the
// analysis and the uplink. On a page that is not a secure context (plain http:// on a LAN
// address) no browser offers a camera: the panel explains that and offers the HTTPS
// address instead (secure_context.js), from the start and on a tap of the switch.

import { AffectSession } from "./affect/session.js";
import { $ } from "./dom.js";
import { cameraAllowedHere, explainInsecure } from "./secure_context.js";

const ANALYSIS = new URLSearchParams(location.search).get("analysis") || "auto";
const PATHS = {
  starting: "Starting the analysis…",
  device: "Analysed on your phone: only numbers are sent.",
  server: "Analysed by the server: the picture is not stored.",
};
const QUALITY = {
  "no-face": "No face in view.",
  "too-dark": "Too dark to read your face.",
  moving: "Hold still for a moment.",
};

let cameraStream = null;
let affect = null; // the AffectSession while the camera is on

if (!cameraAllowedHere()) explainInsecure();

/** Turn the camera on (asking for it) or off; ``room`` is {code, seat, socket} or null. */
export async function toggleCamera(room) {
  const toggle = $("#camera-toggle");
  $("#camera-error").hidden = true;
  if (cameraStream) return stopCamera();
  if (!cameraAllowedHere()) {
    explainInsecure();
    $("#camera-insecure").scrollIntoView({ block: "nearest" });
    return;
  }
  toggle.setAttribute("aria-checked", "true");
  toggle.disabled = true;
  try {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) throw new Error("unavailable");
    const stream = await navigator.mediaDevices.getUserMedia({
      video: { width: 320, height: 240, facingMode: "user" },
      audio: false,
    });
    cameraStream = stream;
    for (const track of stream.getTracks()) track.addEventListener("ended", stopCamera);
    $("#camera-indicator").hidden = false;
    document.dispatchEvent(new CustomEvent("camera", { detail: { stream } }));
    startAffect(room, stream);
  } catch (error) {
    toggle.setAttribute("aria-checked", "false");
    const denied = error && error.name === "NotAllowedError";
    const box = $("#camera-error");
    box.textContent = denied
      ? "The camera is blocked. Allow it in your browser's site settings to share the mood."
      : "No camera is available on this phone. You can still vote.";
    box.hidden = false;
  } finally {
    toggle.disabled = false;
  }
}

/** Stop the tracks, the analysis and the uplink; nothing when the camera is off. */
export function stopCamera() {
  const stream = cameraStream;
  cameraStream = null;
  $("#camera-toggle").setAttribute("aria-checked", "false");
  $("#camera-indicator").hidden = true;
  if (affect) {
    affect.stop();
    affect = null;
  }
  $("#camera-preview").hidden = true;
  $("#camera-path").hidden = true;
  if (!stream) return;
  for (const track of stream.getTracks()) track.stop();
  document.dispatchEvent(new CustomEvent("camera", { detail: { stream: null } }));
}

function startAffect(room, stream) {
  if (!room) return;
  affect = new AffectSession({
    code: room.code,
    token: room.seat.token,
    socket: room.socket,
    preview: $("#camera-preview"),
    mode: ANALYSIS,
  });
  const line = $("#camera-path");
  affect.addEventListener("status", ({ detail: { state } }) => {
    line.dataset.path = state;
    line.textContent = state === "failed" ? "The mood cannot be read on this phone. You can still vote." : PATHS[state] || "";
    line.hidden = !line.textContent;
    $("#camera-preview").hidden = state === "off" || state === "failed";
  });
  affect.addEventListener("reading", ({ detail }) => {
    const hint = detail.flags.map((flag) => QUALITY[flag]).find(Boolean);
    const text = hint ? `${PATHS.device} ${hint}` : PATHS.device;
    if (line.textContent !== text) line.textContent = text; // aria-live: only changes
    document.dispatchEvent(new CustomEvent("affect-reading", { detail }));
  });
  affect.start(stream);
}
