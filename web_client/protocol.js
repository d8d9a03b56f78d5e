// The phone protocol, version 1, as the pages speak it (docs/protocol.md).
// Type names and close codes mirror mobile_bridge/protocol.py; a test compares them.

export const PROTOCOL_VERSION = 1;
export const MAX_MESSAGE_BYTES = 4096;

export const CLIENT_TYPES = ["hello", "ping", "vote", "affect", "host", "playout"];
export const SERVER_TYPES = [
  "welcome", "pong", "state", "vote_open", "vote_ack", "vote_rejected", "tally",
  "decision", "presence", "mood", "host_ack", "ended", "error", "bye",
];

export const CLOSE = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  INVALID_DATA: 1007,
  POLICY: 1008,
  TOO_LARGE: 1009,
  RESTART: 1012,
  BAD_TOKEN: 4001,
  ROOM_NOT_FOUND: 4004,
  PROTOCOL_VERSION: 4005,
  RATE_LIMITED: 4008,
  SLOW_CONSUMER: 4009,
};

// Close codes after which a page stays away instead of reconnecting.
export const STAY_AWAY = new Set([
  CLOSE.NORMAL, CLOSE.INVALID_DATA, CLOSE.POLICY, CLOSE.TOO_LARGE, CLOSE.BAD_TOKEN,
  CLOSE.ROOM_NOT_FOUND, CLOSE.PROTOCOL_VERSION, CLOSE.RATE_LIMITED,
]);

// The ballot field a vote carries for each ballot kind of `vote_open`.
export const BALLOT_FIELD = { option: "option", ranking: "ranking", approve: "approve" };

export function socketUrl(code) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/ws/rooms/${encodeURIComponent(code)}`;
}

/** A room code as the server spells it: letters and digits, upper case. */
export function normalizeCode(text) {
  return (text || "").toUpperCase().replace(/[^A-Z0-9]/g, "");
}
