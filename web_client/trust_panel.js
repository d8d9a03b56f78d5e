// The host page's "Phones: trust this server" panel (#trust). With Kinoroom's local CA
// it shows the CA certificate's QR code, download link and SHA-256 fingerprint, the
// steps for Android and iOS, and what a viewer sees who skips them. With plain HTTP on a
// LAN address it says the mood camera needs HTTPS; with a certificate of the host's own
// (a public CA or a proxy's) there is nothing to do and the panel stays hidden.

import { api } from "./api.js";
import { $ } from "./dom.js";

const LOCAL = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Fill and show the panel for this server; ``joinUrl`` is the room's join link. */
export async function showTrust(joinUrl) {
  const { ok, data } = await api("GET", "/api/tls");
  if (!ok) return;
  const panel = $("#trust");
  if (data.ca) {
    $("#trust-qr").src = data.ca.qr;
    const link = $("#trust-ca-link");
    link.href = data.ca.url;
    link.textContent = data.ca.url;
    $("#trust-fingerprint").textContent = data.ca.sha256;
    panel.dataset.state = "local-ca";
    $("#trust-local").hidden = false;
    panel.hidden = false;
    return;
  }
  const joinHost = joinUrl ? new URL(joinUrl).hostname : location.hostname;
  if (!data.https_url && !LOCAL.has(joinHost)) {
    panel.dataset.state = "plain-http";
    $("#trust-plain").hidden = false;
    panel.hidden = false;
  }
}
