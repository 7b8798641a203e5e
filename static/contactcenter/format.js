// Durations, clock times and the connection line for every page. No DOM here: the node tests
// (tests/js/) import it as it is.

/** 75 → "1:15", 3725 → "1:02:05". Negative or missing values count as 0. */
export function formatDuration(seconds) {
  const total = Math.max(0, Math.floor(Number(seconds) || 0));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** Whole seconds from an ISO time until `nowMs` (0 when unknown or in the future). */
export function secondsSince(iso, nowMs) {
  const then = Date.parse(iso);
  return Number.isNaN(then) ? 0 : Math.max(0, Math.floor((nowMs - then) / 1000));
}

/** Local clock time of an ISO string or Date: "14:05" or, with seconds, "14:05:09". */
export function clockTime(value, withSeconds = false) {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  const options = { hour: "2-digit", minute: "2-digit", hour12: false };
  if (withSeconds) options.second = "2-digit";
  return date.toLocaleTimeString([], options);
}

/** The connection line of a page from connectSocket's status; `refusedText` is the page's own
 * words for a user who may not use it. */
export function connectionLabel(status, code, refusedText) {
  const text = {
    connecting: "Connecting…",
    connected: "Connected",
    reconnecting: "Reconnecting…",
    closed: "Disconnected",
    refused: code === 4401 ? "Signed out — reload to log in" : refusedText,
  }[status];
  return text || status;
}
