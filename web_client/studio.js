// The studio (/studio): the writers' script assistant. Pick a vote in the room's story, ask
// the text model for N branch drafts (theme, mood, characters; a caption card or a prompt
// for a generated scene), read each draft's diversity score (flagged when it only rewords a
// branch or another draft), edit, discard or approve. Approval adds the branch to a NEW
// story version (validated on the server; its diagnostics come back when it is refused),
// and a host screens that version by creating a room with it.
//
// The host token is the key, as on the host page:
//   /studio#room=CODE&token=TOKEN   adopts a room (the terminal prints this for the demo)
//   /studio?room=CODE               uses the token this browser keeps (kinoroom.host.<CODE>)

import { api } from "./api.js";
import { $, h, showView } from "./dom.js";
import { explain } from "./errors.js";
import { normalizeCode } from "./protocol.js";
import { hostTokenKey } from "./report.js";

const room = { code: null, token: null };
let studio = null; // the last GET /api/studio/{code}
let busy = false;

function notice(target, code, message, next = null) {
  const text = explain(code, message);
  target.replaceChildren(h("div", { class: "notice error" }, h("strong", {}, text.title), next ?? text.next));
}

function diagnosticsList(diagnostics) {
  return h("ul", { class: "diagnostics" }, diagnostics.map((d) => h(
    "li", { class: `diagnostic ${d.severity}` },
    h("span", { class: "where" }, `${d.line}:${d.col}`), " ",
    h("span", { class: "diag-code" }, d.code), " ", d.message,
  )));
}

function call(method, path, body) {
  return api(method, `/api/studio/${encodeURIComponent(room.code)}${path}`, { body, token: room.token });
}

// -- loading and drawing --------------------------------------------------------------

async function load() {
  const result = await call("GET", "");
  if (!result.ok) {
    if (result.code === "bad-token" || result.code === "forbidden") {
      localStorage.removeItem(hostTokenKey(room.code));
      showView("no-key");
    }
    notice($("#page-message"), result.code, result.message);
    return false;
  }
  $("#page-message").replaceChildren();
  studio = result.data;
  draw();
  showView("studio");
  return true;
}

function draw() {
  $("#room-code").textContent = studio.room;
  $("#story-title").textContent = studio.story.title;
  const approved = studio.versions.length - 1;
  $("#story-version").textContent = approved
    ? `Story #${studio.story.id}: the room's story #${studio.versions[0]} with ${approved} approved branch${approved === 1 ? "" : "es"}.`
    : `Story #${studio.story.id}, as the room screens it.`;
  $("#similar-at").textContent = `A draft is flagged “too similar” at a similarity of ${studio.similar_at} or more.`;
  const select = $("#node");
  const chosen = select.value;
  select.replaceChildren(...studio.nodes.map((node) => h(
    "option", { value: node.id }, `${node.id}: ${node.prompt}`,
  )));
  if (studio.nodes.some((node) => node.id === chosen)) select.value = chosen;
  drawNode();
}

function drawNode() {
  const node = studio.nodes.find((n) => n.id === $("#node").value);
  $("#node-prompt").textContent = node ? node.prompt : "This story has no votes to branch.";
  $("#options").replaceChildren(...(node ? node.options : []).map((option) => h(
    "li", { dataset: { option: option.id } }, option.label, " ", h("span", { class: "muted" }, `→ ${option.goto}`),
  )));
  $("#draft").disabled = busy || !node;
  drawDrafts();
}

function drawDrafts() {
  const node = $("#node").value;
  // keep what the writer typed and has not saved yet
  const unsaved = new Map([...document.querySelectorAll("article.draft[data-dirty]")].map((card) => [
    card.dataset.id, [$(".draft-label", card).value, $(".draft-text", card).value],
  ]));
  const drafts = studio.drafts.filter((d) => d.node === node).sort((a, b) => rank(a) - rank(b) || b.id - a.id);
  $("#drafts").replaceChildren(...drafts.map((d) => draftCard(d, unsaved.get(String(d.id)))));
  $("#no-drafts").hidden = drafts.length > 0;
  const live = drafts.filter((d) => d.status === "draft").length;
  $("#drafts-count").textContent = drafts.length ? `(${live} open of ${drafts.length})` : "";
}

function rank(draft) {
  return { draft: 0, approved: 1, discarded: 2 }[draft.status] ?? 3;
}

function nearestName(nearest) {
  return String(nearest).replace(/^draft (\d+)$/, "draft #$1").replace(/^option '(.*)'$/, "option “$1”");
}

function draftCard(d, unsaved) {
  const live = d.status === "draft";
  const p = d.provenance || {};
  const closed = d.status === "approved" ? `Approved into story #${d.approved_story_id}` : "Discarded";
  const card = h(
    "article", { class: `draft ${d.status}${d.similar ? " similar" : ""}`, dataset: { id: d.id }, "aria-label": `Draft #${d.id}` },
    h("header", { class: "draft-head" },
      h("strong", { class: "draft-id" }, `Draft #${d.id}`),
      h("span", { class: "badge diversity", title: "1 = unlike anything there, 0 = the same words" }, `Diversity ${d.diversity.toFixed(2)}`),
      d.similar ? h("span", { class: "badge on flag" }, `Too similar to ${nearestName(d.nearest)}`) : null,
      live ? null : h("span", { class: "badge status" }, closed),
    ),
    h("label", { for: `label-${d.id}` }, "Label (what voters read)"),
    h("input", { id: `label-${d.id}`, class: "draft-label", maxlength: 80, value: unsaved ? unsaved[0] : d.label, disabled: !live }),
    h("label", { for: `text-${d.id}` }, d.kind === "card" ? "Card text" : "Prompt for the generated scene"),
    h("textarea", { id: `text-${d.id}`, class: "draft-text", maxlength: d.kind === "card" ? 200 : 2000, disabled: !live },
      unsaved ? unsaved[1] : d.text),
    live ? h("div", { class: "row draft-actions" },
      h("button", { type: "button", class: "save", disabled: !unsaved, onclick: () => save(card, d) }, "Save edits"),
      h("button", { type: "button", class: "approve primary", onclick: () => approve(card, d) }, "Approve"),
      h("button", { type: "button", class: "discard", onclick: () => discard(card, d) }, "Discard"),
    ) : null,
    h("div", { class: "draft-message", role: "alert" }),
    h("details", { class: "provenance" }, h("summary", {}, "Provenance"),
      h("p", { class: "muted small" }, `${p.backend || "text"} model ${p.model}, seed ${p.seed}, ${p.new_tokens} tokens in ${p.seconds} s`)),
  );
  if (unsaved) card.dataset.dirty = "";
  for (const field of [$(".draft-label", card), $(".draft-text", card)]) {
    field.addEventListener("input", () => {
      card.dataset.dirty = "";
      const save = $("button.save", card);
      if (save) save.disabled = false;
    });
  }
  return card;
}

function setCardBusy(card, on) {
  for (const button of card.querySelectorAll("button")) {
    button.disabled = on || (button.classList.contains("save") && !("dirty" in card.dataset));
  }
}

// -- actions --------------------------------------------------------------------------

async function askForDrafts(event) {
  event.preventDefault();
  if (busy) return;
  const n = Number($("#count").value);
  busy = true;
  $("#draft").disabled = true;
  $("#draft").textContent = "Drafting…";
  $(".drafts-panel").setAttribute("aria-busy", "true");
  $("#draft-status").textContent = `Writing ${n} draft${n === 1 ? "" : "s"} on the server…`;
  const result = await call("POST", "/drafts", {
    node: $("#node").value, n, kind: $("#kind").value,
    theme: $("#theme").value.trim(), mood: $("#mood").value.trim(), characters: $("#characters").value.trim(),
  });
  busy = false;
  $("#draft").textContent = "Draft";
  $(".drafts-panel").removeAttribute("aria-busy");
  if (!result.ok) {
    $("#draft-status").textContent = "";
    notice($("#page-message"), result.code, result.message);
    $("#draft").disabled = false;
    return;
  }
  const written = result.data.drafts;
  $("#draft-status").textContent = `${written.length} new draft${written.length === 1 ? "" : "s"}.`;
  await load();
}

async function save(card, draft) {
  const label = $(".draft-label", card).value.trim();
  const text = $(".draft-text", card).value.trim();
  if (!label || !text) {
    $(".draft-message", card).replaceChildren(h("div", { class: "notice error" }, "A draft needs a label and a text."));
    return;
  }
  setCardBusy(card, true);
  const result = await call("PATCH", `/drafts/${draft.id}`, { label, text });
  if (!result.ok) {
    setCardBusy(card, false);
    notice($(".draft-message", card), result.code, result.message);
    return;
  }
  delete card.dataset.dirty;
  await load();
}

async function approve(card, draft) {
  if ("dirty" in card.dataset) {
    await save(card, draft);
    card = document.querySelector(`article.draft[data-id="${draft.id}"]`);
    if (!card || "dirty" in card.dataset) return;
  }
  setCardBusy(card, true);
  const result = await call("POST", `/drafts/${draft.id}/approve`);
  if (!result.ok) {
    setCardBusy(card, false);
    const diagnostics = (result.data && result.data.diagnostics) || [];
    const box = $(".draft-message", card);
    if (result.code === "story-invalid") {
      box.replaceChildren(h("div", { class: "notice error refused" },
        h("strong", {}, "Not approved: the story would have errors."),
        "Nothing was changed. Edit this draft, or keep the story as it is.",
        diagnosticsList(diagnostics)));
    } else {
      notice(box, result.code, result.message);
    }
    return;
  }
  showApproved(result.data);
  await load();
}

async function discard(card, draft) {
  setCardBusy(card, true);
  const result = await call("POST", `/drafts/${draft.id}/discard`);
  if (!result.ok) {
    setCardBusy(card, false);
    notice($(".draft-message", card), result.code, result.message);
    return;
  }
  await load();
}

function showApproved(result) {
  const box = $("#approved");
  box.dataset.story = result.story.id;
  $("#approved-title").textContent = `Approved: new story #${result.story.id}, “${result.story.title}”.`;
  $("#approved-detail").textContent = `Option “${result.option_id}” leads to the new scene “${result.scene_id}”. `
    + "Rooms already open keep their story; create a room to screen this version.";
  $("#new-room").disabled = false;
  $("#new-room-status").replaceChildren();
  box.hidden = false;
}

async function createRoom() {
  const storyId = Number($("#approved").dataset.story);
  $("#new-room").disabled = true;
  const result = await api("POST", "/api/rooms", { body: { story_id: storyId, policy: studio.policy, mode: studio.mode } });
  if (!result.ok) {
    $("#new-room").disabled = false;
    notice($("#new-room-status"), result.code, result.message);
    return;
  }
  localStorage.setItem(hostTokenKey(result.data.code), result.data.host_token);
  $("#new-room-status").replaceChildren(
    `Room ${result.data.code} is ready: `,
    h("a", { href: `/host?room=${encodeURIComponent(result.data.code)}`, id: "new-room-link", target: "_blank", rel: "noopener" }, "open its host page ↗"),
  );
}

// -- boot -----------------------------------------------------------------------------

function boot() {
  $("#brief").addEventListener("submit", askForDrafts);
  $("#node").addEventListener("change", drawNode);
  $("#new-room").addEventListener("click", createRoom);
  const hash = new URLSearchParams(location.hash.slice(1));
  const query = new URLSearchParams(location.search);
  const code = normalizeCode(hash.get("room") || query.get("room") || "");
  if (code && hash.get("token")) {
    localStorage.setItem(hostTokenKey(code), hash.get("token"));
    history.replaceState(null, "", `/studio?room=${code}`); // the token leaves the address bar
  }
  const token = code ? localStorage.getItem(hostTokenKey(code)) : null;
  if (!code || !token) {
    showView("no-key");
    return;
  }
  Object.assign(room, { code, token });
  document.title = `${code} · Studio · Kinoroom`;
  load();
}

boot();
