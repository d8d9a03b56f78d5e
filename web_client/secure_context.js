// Why the mood camera cannot start on this page, and where it can. Browsers open a
// camera only in a secure context (https://, or localhost): a phone that reached the
// server by plain http://LAN-ADDRESS never gets navigator.mediaDevices. Instead of "no
// camera", #camera-insecure says so and offers the server's HTTPS address (from
// /api/tls), the local CA's certificate to install first (with its fingerprint), and
// whether this phone already trusts the secure address: a no-cors fetch of it fails
// when the certificate is not trusted (or expired), succeeds when it is.

import { api } from "./api.js";
import { $ } from "./dom.js";

let explained = null; // the explanation's promise, once started

/** Whether the camera can be asked for on this page at all. */
export function cameraAllowedHere() {
  return window.isSecureContext;
}

/** Show the explanation (once); resolves when it is complete, trust probe included. */
export function explainInsecure() {
  if (!explained) explained = fill();
  const box = $("#camera-insecure");
  box.hidden = false;
  return explained;
}

async function fill() {
  const box = $("#camera-insecure");
  const status = $("#secure-status");
  const { ok, data } = await api("GET", "/api/tls");
  if (!ok || !data.https_url) {
    status.textContent =
      "This server has no secure address yet: ask the host to start Kinoroom with HTTPS " +
      "(kinoroom serve --https). You can still vote.";
    box.dataset.state = "no-https";
    return;
  }
  const target = data.https_url + location.pathname + location.search + location.hash;
  const link = $("#secure-link");
  link.href = target;
  link.textContent = `Open ${data.https_url}`;
  link.hidden = false;
  if (data.ca) {
    const ca = $("#ca-link");
    ca.href = data.ca.url;
    $("#ca-fingerprint").textContent = data.ca.sha256;
    $("#ca-steps").hidden = false;
  }
  if (data.certificate && data.certificate.expired) {
    const day = new Date(data.certificate.expires_at).toLocaleDateString();
    status.textContent =
      `The server's certificate expired on ${day}: the secure address shows a warning ` +
      "until the host renews it. You can still vote here.";
    box.dataset.state = "expired";
    return;
  }
  const trusted = await reachable(`${data.https_url}/healthz`);
  box.dataset.state = trusted ? "trusted" : "untrusted";
  if (trusted) $("#ca-steps").hidden = true; // already installed: nothing more to do
  status.textContent = trusted
    ? "This phone trusts the secure address: open it to share the mood (you join again there)."
    : data.ca
      ? "This phone does not trust the secure address yet: install the server's certificate " +
        "below first, or the browser warns that the connection is not private."
      : "This phone cannot open the secure address: its browser does not trust the " +
        "server's certificate. Ask the host.";
}

async function reachable(url) {
  try {
    await fetch(url, { mode: "no-cors", cache: "no-store" });
    return true;
  } catch {
    return false;
  }
}
