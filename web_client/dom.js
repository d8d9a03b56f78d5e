// A tiny element builder, so pages never assemble HTML from strings (no injection).

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

/** Show exactly one of the page's sections (elements with data-view). */
export function showView(name) {
  // "body [data-view]": body carries data-view itself (set below, for styles).
  for (const view of document.querySelectorAll("body [data-view]")) {
    view.hidden = view.dataset.view !== name;
  }
  document.body.dataset.view = name;
}

export function formatSeconds(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  return s >= 60 ? `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}` : `${s}`;
}
