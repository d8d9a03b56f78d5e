// What a person sees for each stable error code: what happened, and what to do next.

const FRIENDLY = {
  "room-not-found": ["No room with that code.", "Check the code on the big screen and try again."],
  "room-full": ["This room is full.", "Ask the host to open another room."],
  "room-ended": ["This screening has ended.", "Ask the host for the code of the next one."],
  "group-not-found": ["This browser's group is not on this server.", "Clear the group name and create a room to start a new group."],
  "rate-limited": ["Too many tries.", "Wait a minute, then try again."],
  "bad-token": ["Your seat in this room is no longer valid.", "Join again with the room code."],
  "protocol-version": ["This page is out of date.", "Reload the page."],
  network: ["No connection to the server.", "Check your Wi-Fi or mobile data, then try again."],
  lost: ["Lost the connection to the room.", "Check your network; tap Reconnect to try again."],
  "not-open": ["That vote is not open.", "Wait for the next vote."],
  "window-closed": ["Too late: the vote had closed.", "Your vote counts at the next choice."],
  "unknown-option": ["That option is not available.", "Pick one of the options shown."],
  "bad-ballot": ["That ballot cannot be counted.", "Choose again and send."],
  "stale-seq": ["An older vote arrived after a newer one.", "Your latest vote is the one that counts."],
  "unknown-device": ["The room does not know this phone.", "Join again with the room code."],
  "story-invalid": ["The story has errors.", "Fix what is listed below (line and column, or the ink path) and upload again."],
  "story-not-editable": ["This room screens an ink story.", "Write its new branches in ink (Inky), then upload it again."],
  "story-not-found": ["That story is gone.", "Pick another story."],
  "host-rejected": ["The screening refused that.", ""],
  "slow-consumer": ["The connection was too slow.", "Reconnecting…"],
  "shutting-down": ["The server is restarting.", "Reconnecting…"],
  forbidden: ["Only the host can do that.", "Open the host link from the terminal."],
  "node-not-found": ["That story node has no vote to branch.", "Pick another node."],
  "draft-not-found": ["That draft is gone.", "Reload the studio."],
  "draft-closed": ["That draft was already approved or discarded.", "Reload the studio to see it."],
  "model-unavailable": ["The script assistant's model is not available.", "Check the server's text model settings, then try again."],
  internal: ["Something went wrong on the server.", "Try again in a moment."],
};

/** `{title, next}` for an error code; falls back to the server's own message. */
export function explain(code, message = "") {
  const [title, next] = FRIENDLY[code] || [message || "Something went wrong.", "Try again."];
  return { title, next: code === "host-rejected" ? message : next };
}
