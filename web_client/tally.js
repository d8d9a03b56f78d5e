// Live tally bars, shared by the screen and the host page: one `.bar[data-option]` per
// option with a `.fill` and a `.score`; the winner, once decided, gets `.win`.

import { formatScore } from "./plots.js";

/** "3 of 5 phones voted" (singular for one phone present). */
export function turnoutText({ voted, present }) {
  return `${voted} of ${present} ${present === 1 ? "phone" : "phones"} voted`;
}

/**
 * Redraw the bars inside `bars` from `scores`; fills are shares of the total.
 * @param {Element} bars the element holding the `.bar` rows
 * @param {Element | null} turnoutLine where the turnout sentence goes
 */
export function drawTally(bars, turnoutLine, scores, turnout, winner = null) {
  const total = Object.values(scores).reduce((a, b) => a + b, 0);
  for (const bar of bars.querySelectorAll(".bar")) {
    const score = scores[bar.dataset.option] ?? 0;
    bar.querySelector(".fill").style.width = `${total > 0 ? (score / total) * 100 : 0}%`;
    bar.querySelector(".score").textContent = formatScore(score);
    bar.classList.toggle("win", bar.dataset.option === winner);
  }
  if (turnout && turnoutLine) turnoutLine.textContent = turnoutText(turnout);
}
