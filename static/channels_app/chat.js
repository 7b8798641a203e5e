// Customer web chat: /chat/ → /ws/chat/ (see docs/protocol.md).
import { appendToLog, connectSocket, messageItem, submitOnEnter } from "../contactcenter/socket.js";

const $ = (id) => document.getElementById(id);
const startSection = $("start");
const startForm = $("start-form");
const startButton = startForm.querySelector("button[type=submit]");
const fieldInputs = { name: $("start-name"), email: $("start-email") };
const conversation = $("conversation");
const statusLine = $("chat-status");
const log = $("chat-log");
const composer = $("composer");
const body = $("composer-body");
const sendButton = composer.querySelector("button[type=submit]");
const composerError = $("composer-error");

const siteKey = document.querySelector("main").dataset.siteKey || "";
// Per browser tab: a reload comes back to the same chat, a new tab starts a new one.
const TOKEN_KEY = `cc-chat-resume:${siteKey || "page"}`;
const TYPING_REPEAT_MS = 3000;
const TYPING_SHOWN_MS = 6000;
const typingLine = $("typing");
const endButton = $("end-chat");

let socket = null;
let started = false;
let closed = false;
let lastSent = "";
let typingSentAt = 0;
let typingTimer = null;
const seen = new Set();

// In the widget's frame, browsers that block third-party storage deny sessionStorage; the
// widget on the host page keeps the token instead and hands it back in the frame's #resume.
const framed = window.parent !== window;
const fragment = new URLSearchParams(location.hash.slice(1));
// The widget names the page it runs on; frame-ancestors lets only the site's origins frame us.
const hostOrigin = framed
  ? fragment.get("host") || (document.referrer ? new URL(document.referrer).origin : null)
  : null;
let keptToken = fragment.get("resume");
// A signed-in shopper, as the site's server vouches for them.
const identityHash = fragment.get("hash") || "";
if (fragment.get("name")) fieldInputs.name.value = fragment.get("name");
if (fragment.get("email")) fieldInputs.email.value = fragment.get("email");

function savedToken() {
  try {
    const stored = sessionStorage.getItem(TOKEN_KEY);
    if (stored) return stored;
  } catch {
    // Storage blocked (private mode, a third-party frame): fall back to the kept token.
  }
  return keptToken;
}

function saveToken(token) {
  keptToken = token || null;
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // See savedToken.
  }
  // Only to the page that frames us, which the server's frame-ancestors limits to the
  // site's own origins.
  if (hostOrigin) window.parent.postMessage({ type: "cc-chat-resume", token: keptToken }, hostOrigin);
}

function showError(node, text) {
  node.textContent = text || "";
}

function clearStartErrors() {
  showError($("start-error"), "");
  for (const [field, input] of Object.entries(fieldInputs)) {
    showError($(`start-${field}-error`), "");
    input.removeAttribute("aria-invalid");
  }
}

function showConversation() {
  if (started) return;
  started = true;
  startSection.hidden = true;
  conversation.hidden = false;
  body.focus();
}

function setComposerEnabled(enabled) {
  body.disabled = !enabled;
  sendButton.disabled = !enabled;
}

function endChat(text) {
  closed = true;
  saveToken(null);
  statusLine.textContent = text;
  statusLine.dataset.state = "closed";
  setComposerEnabled(false);
  endButton.hidden = true;
  typingLine.textContent = "";
  const restart = $("restart");
  if (framed) {
    // A new chat in the same frame keeps knowing its host page and the shopper.
    const again = new URLSearchParams(fragment);
    again.delete("resume");
    restart.querySelector("a").href = `${location.pathname}${location.search}#${again}`;
  }
  restart.hidden = false;
  if (socket) socket.close();
}

function onStatus(data) {
  showConversation();
  statusLine.dataset.state = data.state;
  if (data.state === "waiting") {
    let line = "Waiting for an agent";
    if (data.position != null) {
      line = `Waiting for an agent — you are number ${data.position} in line`;
    } else if (data.position_beyond != null) {
      line = `Waiting for an agent — at least ${data.position_beyond} people are ahead of you`;
    }
    statusLine.textContent =
      data.agents_available === 0
        ? `${line}. No agent is available right now; stay here and the first one back will answer.`
        : line;
  } else if (data.state === "assistant") {
    statusLine.textContent =
      "You are chatting with our assistant. Ask for an agent at any time.";
  } else if (data.state === "connected") {
    statusLine.textContent = `You are chatting with ${data.agent_name || "an agent"}`;
  } else if (data.state === "closed") {
    const reasons = {
      resolved: "The assistant closed this chat. Thank you for writing!",
      ended: "You ended this chat.",
      idle: "This chat ended after a while without messages.",
    };
    endChat(reasons[data.note] || "The agent closed this chat");
  }
}

function onError(data) {
  const message = data.message || "Something went wrong.";
  if (data.ref === "chat.resume") {
    // The chat ended while the page was away: offer a new one.
    saveToken(null);
    if (started) endChat(message);
    else showError($("start-error"), message);
    return;
  }
  if (!started) {
    const input = fieldInputs[data.field];
    if (input) {
      input.setAttribute("aria-invalid", "true");
      showError($(`start-${data.field}-error`), message);
      input.focus();
    } else {
      showError($("start-error"), message);
    }
    startButton.disabled = false;
    return;
  }
  showError(composerError, message);
  if (data.ref === "chat.message" && !body.value && lastSent) body.value = lastSent;
}

function onFrame({ type, data }) {
  switch (type) {
    case "chat.started":
      showConversation();
      saveToken(data.resume_token);
      $("case-number").textContent = `Case ${data.case_number}`;
      if (!statusLine.textContent) statusLine.textContent = "Waiting for an agent";
      endButton.hidden = false;
      setComposerEnabled(true);
      break;
    case "chat.history":
      for (const message of data.messages || []) {
        if (seen.has(message.id)) continue;
        seen.add(message.id);
        appendToLog(log, messageItem(message, "customer"));
      }
      break;
    case "chat.typing":
      showTyping(data);
      break;
    case "chat.status":
      onStatus(data);
      break;
    case "message.created":
      if (seen.has(data.id)) break;
      seen.add(data.id);
      showConversation();
      appendToLog(log, messageItem(data, "customer"));
      break;
    case "error":
      onError(data);
      break;
  }
}

function onSocketStatus(status) {
  if (status === "reconnecting") {
    if (started && !closed) {
      statusLine.textContent = "Connection lost — reconnecting…";
      setComposerEnabled(false);
    } else if (!started && !savedToken()) {
      // Nothing to come back to: no chat was started on this socket.
      socket.close();
      socket = null;
      showError($("start-error"), "We could not reach the chat service. Please try again.");
      startButton.disabled = false;
    }
    return;
  }
  if (status !== "closed" && status !== "refused") return;
  socket = null;
  if (!started) {
    startButton.disabled = false;
  } else if (!closed) {
    endChat("The connection was lost and this chat has ended.");
  }
}

function onOpen() {
  const token = savedToken();
  if (token) socket.send("chat.resume", { token });
  else if (!started) sendStart();
}

function connect() {
  // Reconnects on its own; after a drop or a reload the chat resumes with the saved token.
  socket = connectSocket("/ws/chat/", { onFrame, onOpen, onStatusChange: onSocketStatus });
}

function showTyping(data) {
  clearTimeout(typingTimer);
  typingLine.textContent = data.typing ? `${data.name || "The agent"} is typing…` : "";
  if (data.typing) typingTimer = setTimeout(() => (typingLine.textContent = ""), TYPING_SHOWN_MS);
}

function sendStart() {
  const start = {
    name: fieldInputs.name.value.trim(),
    email: fieldInputs.email.value.trim(),
  };
  if (siteKey) start.site = siteKey;
  if (siteKey && identityHash) start.identity_hash = identityHash;
  if (!socket.send("chat.start", start)) startButton.disabled = false;
}

startForm.addEventListener("submit", (event) => {
  event.preventDefault();
  clearStartErrors();
  startButton.disabled = true;
  if (socket && socket.isOpen) sendStart();
  else if (!socket) connect();
});

endButton.addEventListener("click", () => {
  if (socket && socket.send("chat.end", {})) endButton.disabled = true;
});

body.addEventListener("input", () => {
  const now = Date.now();
  if (!socket || closed || now - typingSentAt < TYPING_REPEAT_MS || !body.value.trim()) return;
  typingSentAt = now;
  socket.send("chat.typing", { typing: true });
});

composer.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = body.value.trim();
  if (!text || closed) return;
  showError(composerError, "");
  if (!socket || !socket.send("chat.message", { body: text })) {
    showError(composerError, "Not connected — your message was not sent.");
    return;
  }
  // No optimistic echo: the server sends our own message back as message.created.
  lastSent = text;
  body.value = "";
  typingSentAt = 0;
  socket.send("chat.typing", { typing: false });
});

// Coming back after a reload: the tab kept the chat's resume token.
if (savedToken()) connect();

submitOnEnter(body);
