// Shared helpers for every page: the websocket client and a tiny DOM builder.
// Server text only ever reaches the DOM through text nodes (never innerHTML).

import { clockTime } from "./format.js";

// Pages import the formatting helpers from here as well as from format.js.
export { clockTime, formatDuration, secondsSince } from "./format.js";

const REFUSED_CODES = new Set([4401, 4403]);
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 10000;

/** A frame from the server's text, or null when it is not one. */
function parseFrame(text) {
  let frame;
  try {
    frame = JSON.parse(text);
  } catch {
    return null;
  }
  if (!frame || typeof frame.type !== "string") return null;
  return { type: frame.type, v: frame.v, data: frame.data || {} };
}

/** What a socket that closed with `code` becomes: "closed", "refused" (never retried) or
 * "reconnecting". */
function afterClose(code, { stopped, reconnect }) {
  if (stopped) return "closed";
  if (REFUSED_CODES.has(code)) return "refused";
  return reconnect ? "reconnecting" : "closed";
}

/** One websocket kept open: reopened after an unexpected close, with back-off. */
class ReconnectingSocket {
  constructor(url, { onFrame, onOpen, onStatusChange, reconnect = true }) {
    Object.assign(this, { url, onFrame, onOpen, onStatusChange, reconnect });
    this.ws = null;
    this.delay = FIRST_DELAY_MS;
    this.timer = null;
    this.stopped = false;
  }

  report(status, code) {
    if (this.onStatusChange) this.onStatusChange(status, code);
  }

  open() {
    this.timer = null;
    const socket = new WebSocket(this.url);
    this.ws = socket;
    socket.addEventListener("open", () => {
      this.report("connected");
      if (this.onOpen) this.onOpen();
    });
    socket.addEventListener("message", (event) => this.received(event));
    socket.addEventListener("close", (event) => this.closed(socket, event));
  }

  received(event) {
    // Back-off resets only once the server has really talked to us.
    this.delay = FIRST_DELAY_MS;
    const frame = parseFrame(event.data);
    if (frame && this.onFrame) this.onFrame(frame);
  }

  closed(socket, event) {
    if (socket !== this.ws) return;
    const status = afterClose(event.code, this);
    this.report(status, event.code);
    if (status !== "reconnecting") {
      this.stopped = true;
      return;
    }
    const wait = Math.min(MAX_DELAY_MS, this.delay * (0.8 + Math.random() * 0.4));
    this.delay = Math.min(MAX_DELAY_MS, this.delay * 2);
    this.timer = setTimeout(() => this.open(), wait);
  }

  /** Back online: retry now instead of waiting out the back-off. */
  retryNow() {
    if (this.timer === null) return;
    clearTimeout(this.timer);
    this.open();
  }

  /** Send one frame; returns false when the socket is not open. */
  send(type, data = {}) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify({ type, v: 1, data }));
    return true;
  }

  get isOpen() {
    return Boolean(this.ws) && this.ws.readyState === WebSocket.OPEN;
  }

  close() {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000);
  }
}

/**
 * Open a websocket to `path` on this host and keep it open; returns {send(type, data) → bool,
 * isOpen, close()}.
 * Callbacks: onFrame(frame) with frame = {type, v, data}; onOpen(); onStatusChange(status, code)
 * where status is "connecting" | "connected" | "reconnecting" | "refused" | "closed".
 * Set `reconnect: false` for a socket whose server state dies with it (the visitor chat).
 */
export function connectSocket(path, options = {}) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new ReconnectingSocket(`${scheme}//${location.host}${path}`, options);
  window.addEventListener("online", () => socket.retryNow());
  // Leaving the page closes the socket; that is not a reason to show "Reconnecting…".
  window.addEventListener("pagehide", () => {
    socket.stopped = true;
  });
  socket.report("connecting");
  socket.open();
  return socket;
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
