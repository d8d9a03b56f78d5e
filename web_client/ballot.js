// The ballot form: what a phone's taps add up to, for each ballot kind of `vote_open`
// (docs/protocol.md, "vote_open, vote, vote_ack, vote_rejected"). No DOM, no socket:
// phone.js renders `picked` and sends `message()`.
//
//   option   one tap is the whole ballot: it is sent at once.
//   ranking  taps in order of preference; tapping a ranked option again removes it and
//            closes the gap. A partial ranking (at least one) is a valid Borda ballot.
//   approve  taps toggle; every approved option counts the same (at least one).

import { BALLOT_FIELD } from "./protocol.js";

export class BallotForm {
  /** @param {"option"|"ranking"|"approve"} kind  @param {string[]} optionIds */
  constructor(kind, optionIds) {
    if (!(kind in BALLOT_FIELD)) throw new Error(`unknown ballot kind ${kind}`);
    this.kind = kind;
    this.optionIds = optionIds;
    this.picked = [];
  }

  /** Apply one tap; true when the tap itself is the vote (the `option` kind). */
  tap(id) {
    if (!this.optionIds.includes(id)) return false;
    if (this.kind === "option") {
      this.picked = [id];
      return true;
    }
    const at = this.picked.indexOf(id);
    if (at >= 0) this.picked.splice(at, 1);
    else this.picked.push(id);
    return false;
  }

  /** 1-based place in a ranking, 0 when unranked (or not a ranking). */
  rank(id) {
    return this.kind === "ranking" ? this.picked.indexOf(id) + 1 : 0;
  }

  isPicked(id) {
    return this.picked.includes(id);
  }

  /** Whether the form holds a ballot worth sending (the option kind sends on tap). */
  get ready() {
    return this.picked.length >= 1;
  }

  /** The `vote` message for this ballot. */
  message(choice, seq) {
    const field = BALLOT_FIELD[this.kind];
    const value = this.kind === "option" ? this.picked[0] : [...this.picked];
    return { type: "vote", choice, seq, [field]: value };
  }

  /** Show a vote the server already holds (welcome.your_vote) or one still in flight. */
  load(vote) {
    const ids = vote.option != null ? [vote.option] : vote.ranking || vote.approve || [];
    this.picked = ids.filter((id) => this.optionIds.includes(id));
    if (this.kind === "option") this.picked = this.picked.slice(0, 1);
  }
}
