// "Watch next" on the host page: the browser remembers one group (localStorage
// `kinoroom.group`: {id, name}; the id is the group's key), every room it creates joins
// that group's history, and when a screening ends the page shows three picks for the
// group's next evening, each with its reason; one click creates that room.

import { api } from "./api.js";
import { h } from "./dom.js";
import { explain } from "./errors.js";
import { hostTokenKey } from "./report.js";

const GROUP_KEY = "kinoroom.group";

export function currentGroup() {
  try {
    const group = JSON.parse(localStorage.getItem(GROUP_KEY));
    return group && typeof group.id === "string" ? group : null;
  } catch {
    return null;
  }
}

/** The remembered group, made once (named `name`) when this browser has none. */
export async function ensureGroup(name) {
  const known = currentGroup();
  if (known) return { ok: true, group: known };
  const result = await api("POST", "/api/groups", { body: { name: name.trim() || "My group" } });
  if (!result.ok) return result;
  const group = { id: result.data.id, name: result.data.name };
  localStorage.setItem(GROUP_KEY, JSON.stringify(group));
  return { ok: true, group };
}

const LABELS = { taste: "Your taste", together: "Groups like yours", start: "To start", explore: "Outside your habit" };

export async function showWatchNext(target, { mode = "phones-play", policy = "plurality" } = {}) {
  const group = currentGroup();
  if (!group) return;
  const result = await api("GET", `/api/groups/${encodeURIComponent(group.id)}/next`);
  target.hidden = false;
  if (!result.ok) {
    const { title, next } = explain(result.code, result.message);
    target.replaceChildren(h("h2", {}, "Watch next"), h("div", { class: "notice error" }, h("strong", {}, title), next));
    return;
  }
  const status = h("p", { class: "muted", id: "watch-next-status" });
  const create = async (pick, button) => {
    button.disabled = true;
    status.textContent = `Creating a room for “${pick.title}”…`;
    const made = await api("POST", "/api/rooms", { body: { story_id: pick.story_id, policy, mode, group: group.id } });
    if (!made.ok) {
      button.disabled = false;
      status.textContent = explain(made.code, made.message).title;
      return;
    }
    localStorage.setItem(hostTokenKey(made.data.code), made.data.host_token);
    location.assign(`/host?room=${encodeURIComponent(made.data.code)}`);
  };
  const { screenings, picks } = result.data;
  target.replaceChildren(
    h("h2", {}, "Watch next"),
    h("p", { class: "muted" }, `For ${group.name}, from ${screenings} screening${screenings === 1 ? "" : "s"} so far.`),
    h("ol", { class: "picks" }, picks.map((pick) => h(
      "li", { class: `pick ${pick.kind}`, dataset: { story: pick.story_id, kind: pick.kind } },
      h("strong", { class: "title" }, pick.title),
      h("span", { class: `badge ${pick.kind === "explore" ? "explore" : ""}` }, LABELS[pick.kind] || pick.kind),
      h("p", { class: "reason" }, pick.reason),
      h("button", { type: "button", class: "primary", onclick: (event) => create(pick, event.currentTarget) }, "Create the next room"),
    ))),
    status,
  );
}
