// Shared helpers for every page: the websocket client and a tiny DOM builder.
// Server text only ever reaches the DOM through text nodes (never innerHTML).

import { clockTime } from "./format.js";

// Pages import the formatting helpers from here as well as from format.js.
export { clockTime, formatDuration, secondsSince } from "./format.js";

const REFUSED_CODES = new Set([4401, 4403]);
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 10000;

/**
 * Open a websocket to `path` on this host and keep it open.
 * Callbacks: onFrame(frame) with frame = {type, v, data}; onOpen(); onStatusChange(status, code)
 * where status is "connecting" | "connected" | "reconnecting" | "refused" | "closed".
 * Set `reconnect: false` for a socket whose server state dies with it (the visitor chat).
 */
export function connectSocket(path, { onFrame, onOpen, onStatusChange, reconnect = true } = {}) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const url = `${scheme}//${location.host}${path}`;
  let ws = null;
  let delay = FIRST_DELAY_MS;
  let timer = null;
  let stopped = false;

  const report = (status, code) => onStatusChange && onStatusChange(status, code);

  function open() {
    timer = null;
    ws = new WebSocket(url);
    const socket = ws;
    socket.addEventListener("open", () => {
      report("connected");
      if (onOpen) onOpen();
    });
    socket.addEventListener("message", (event) => {
      // Back-off resets only once the server has really talked to us.
      delay = FIRST_DELAY_MS;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame && typeof frame.type === "string" && onFrame) {
        onFrame({ type: frame.type, v: frame.v, data: frame.data || {} });
      }
    });
    socket.addEventListener("close", (event) => {
      if (socket !== ws) return;
      if (stopped) return report("closed", event.code);
      if (REFUSED_CODES.has(event.code)) {
        stopped = true;
        return report("refused", event.code);
      }
      if (!reconnect) {
        stopped = true;
        return report("closed", event.code);
      }
      report("reconnecting", event.code);
      const wait = Math.min(MAX_DELAY_MS, delay * (0.8 + Math.random() * 0.4));
      delay = Math.min(MAX_DELAY_MS, delay * 2);
      timer = setTimeout(open, wait);
    });
  }

  // Back online: retry now instead of waiting out the back-off.
  window.addEventListener("online", () => {
    if (timer !== null) {
      clearTimeout(timer);
      open();
    }
  });
  // Leaving the page closes the socket; that is not a reason to show "Reconnecting…".
  window.addEventListener("pagehide", () => {
    stopped = true;
  });

  report("connecting");
  open();

  return {
    /** Send one frame; returns false when the socket is not open. */
    send(type, data = {}) {
      if (!ws || ws.readyState !== WebSocket.OPEN) return false;
      ws.send(JSON.stringify({ type, v: 1, data }));
      return true;
    },
    get isOpen() {
      return Boolean(ws) && ws.readyState === WebSocket.OPEN;
    },
    close() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      if (ws) ws.close(1000);
    },
  };
}

/**
 * el("button", {type: "button", class: "x", onclick: fn}, "Text", childNode, [more])
 * Attributes: "class"; on* functions become listeners; true → empty attribute;
 * false/null/undefined are skipped. Strings become text nodes.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      node.className = value;
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** One chat message as a list item; `ownSender` is the sender shown as "me" on this page. */
export function messageItem(message, ownSender) {
  const kind = message.internal
    ? "note"
    : message.sender === "system"
      ? "system"
      : message.sender === ownSender
        ? "own"
        : "other";
  return el(
    "li",
    { class: `msg msg--${kind}`, "data-message-id": message.id },
    el(
      "div",
      { class: "msg__meta" },
      el("span", { class: "msg__author" }, message.author_name || message.sender),
      message.internal ? " (internal note)" : "",
      " ",
      el("time", { datetime: message.created_at }, clockTime(message.created_at)),
    ),
    el("p", { class: "msg__body" }, message.body),
    (message.attachments || []).length
      ? el(
          "ul",
          { class: "msg__attachments", "aria-label": "Attachments" },
          message.attachments.map((file) =>
            el(
              "li",
              {},
              el("a", { href: file.url, download: file.filename }, file.filename),
              ` (${Math.max(1, Math.round(file.size / 1024))} KB)`,
            ),
          ),
        )
      : null,
    deliveryNote(message),
  );
}

/** Where a reply sent out by a provider (email, SMS, messaging) stands; nothing for chat. */
function deliveryNote(message) {
  if (message.delivery === "pending") return el("p", { class: "msg__delivery" }, "Sending…");
  if (message.delivery === "failed") {
    return el(
      "p",
      { class: "msg__delivery msg__delivery--failed", role: "alert" },
      `Not delivered: ${message.delivery_error || "the provider refused it"}`,
    );
  }
  return null;
}

/** Append to a scrolling log, following the bottom only if the reader was already there. */
export function appendToLog(log, item) {
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  log.append(item);
  if (atBottom) log.scrollTop = log.scrollHeight;
}

/** Enter submits the form, Shift+Enter inserts a newline (IME composition is left alone). */
export function submitOnEnter(textarea) {
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      textarea.form.requestSubmit();
    }
  });
}

/** Django's CSRF token, which the API's session-authenticated POST/PATCH calls must send. */
export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}
