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

let socket = null;
let started = false;
let closed = false;
let lastSent = "";
const seen = new Set();

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
  statusLine.textContent = text;
  statusLine.dataset.state = "closed";
  setComposerEnabled(false);
  $("restart").hidden = false;
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
    endChat(
      data.note === "resolved"
        ? "The assistant closed this chat. Thank you for writing!"
        : "The agent closed this chat",
    );
  }
}

function onError(data) {
  const message = data.message || "Something went wrong.";
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
      $("case-number").textContent = `Case ${data.case_number}`;
      if (!statusLine.textContent) statusLine.textContent = "Waiting for an agent";
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
  if (status !== "closed" && status !== "refused") return;
  socket = null;
  if (!started) {
    showError($("start-error"), "We could not reach the chat service. Please try again.");
    startButton.disabled = false;
  } else if (!closed) {
    endChat("The connection was lost and this chat has ended.");
  }
}

function sendStart() {
  const ok = socket.send("chat.start", {
    name: fieldInputs.name.value.trim(),
    email: fieldInputs.email.value.trim(),
  });
  if (!ok) startButton.disabled = false;
}

startForm.addEventListener("submit", (event) => {
  event.preventDefault();
  clearStartErrors();
  startButton.disabled = true;
  if (socket && socket.isOpen) {
    sendStart();
  } else if (!socket) {
    // The server forgets the chat when the socket closes, so this socket never reconnects.
    socket = connectSocket("/ws/chat/", {
      reconnect: false,
      onFrame,
      onOpen: sendStart,
      onStatusChange: onSocketStatus,
    });
  }
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
});

submitOnEnter(body);
