// The words of a scene — a text scene of a Twine or ink story, or a caption over a clip —
// as the `state` message carries them (`text`: the body and the story's colours).
//
// Why the page draws them, not the film: an ink story's lines are written while the room
// watches (its variables, its RANDOM), so they cannot be clips made in advance, and
// rendering them into video would cost an encode per scene. Sent with the state, they
// reach every page at the scene change and on any resync (a reload, a reconnect), stay
// crisp on a projector and a phone alike, and screen readers can read them. A text
// scene plays no clip: the page hides the film and shows the words on the story's colours.

import { h } from "./dom.js";

/**
 * Show ``text`` (a `state.text`, or null) in ``box``; ``caption``: over a playing clip.
 * Marks the page `text-scene` while words stand in for the film, with the story's
 * colours in `--words-bg` and `--words-fg` for the page's styles.
 */
export function showWords(box, text, { caption = false } = {}) {
  const body = document.body;
  body.classList.toggle("text-scene", Boolean(text) && !caption);
  if (!text) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  body.style.setProperty("--words-bg", text.background);
  body.style.setProperty("--words-fg", text.colour);
  box.classList.toggle("caption", caption);
  box.replaceChildren(...text.body.split("\n").map((line) => h("p", {}, line)));
  box.hidden = false;
}
