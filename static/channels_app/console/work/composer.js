// The reply box of the active conversation: Send (a reply, or an internal note), canned
// responses, the SMS length counter, files on email replies, and "typing" for the customer.
// The box shows the state's draft; every keystroke goes to the state and to the browser's
// storage (console/drafts.js), so a reload, a reconnect or a switch of tab keeps it.
import { csrfToken, el, submitOnEnter } from "../../../contactcenter/socket.js";
import { NOT_TYPING, typingAfterInput, typingAfterStop } from "../outgoing.js";
import { fillPlaceholders, withCannedText } from "../placeholders.js";
import { smsSegments } from "../sms.js";

/** Tells the customer of a chat when the agent types (at most every few seconds) and stops. */
export function ownTyping({ send, getState }) {
  let own = NOT_TYPING;
  const held = (id) => getState().items.some((item) => item.id === id);
  function tell(next, workItemId) {
    own = next.own;
    // A closed item has no customer left to tell.
    if (next.typing === true || (next.typing === false && held(workItemId))) {
      send("work.typing", { work_item_id: workItemId, typing: next.typing });
    }
  }
  return {
    input(workItemId, text) {
      tell(typingAfterInput(own, workItemId, text, Date.now()), workItemId);
    },
    stop(workItemId) {
      tell(typingAfterStop(own, workItemId), workItemId);
    },
  };
}

export function composerView(item, state, ctx) {
  const data = item.data;
  const id = data.work_item_id;
  const isChat = data.channel === "chat";
  const reply = replyBox(item, ctx);
  const form = el(
    "form",
    { class: "composer", hidden: data.channel === "voice" },
    el("label", { for: "reply" }, "Reply"),
    el(
      "div",
      { class: "composer__row" },
      reply,
      el("button", { type: "submit", class: "button button--primary" }, "Send"),
    ),
    el("p", { id: "reply-hint", class: "hint" }, "Enter sends, Shift+Enter adds a new line."),
  );
  if (state.canned.length) form.append(cannedSelect(state.canned, reply, data, ctx));
  const counter =
    data.channel === "sms" ? el("p", { class: "hint", id: "reply-counter", "aria-live": "polite" }) : null;
  if (counter) form.append(counter);
  const files = data.channel === "email" ? el("input", { type: "file", id: "reply-files", multiple: true }) : null;
  if (files) form.append(el("label", { for: "reply-files" }, "Attach files"), files);
  const internal = noteToggle(id, isChat, ctx);
  form.append(
    el(
      "label",
      { class: "composer__internal", for: "reply-internal" },
      internal,
      " Internal note (the customer never sees it)",
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const current = ctx.getState().items.find((candidate) => candidate.id === id);
    const body = reply.value.trim();
    if (current && body) submitReply(current, body, files, ctx);
  });

  function update(current) {
    if (reply.value !== current.draft) reply.value = current.draft;
    // Whether the box holds an internal note is kept with the draft: a note restored into a
    // reply box that would send it to the customer is the one mistake this must not allow.
    internal.checked = current.noteMode;
    form.classList.toggle("composer--note", current.noteMode);
    if (counter) counter.textContent = smsSegments(current.draft);
  }
  update(item);
  return { form, update };
}

function replyBox(item, { dispatch, drafts, typing, getState }) {
  const id = item.id;
  const reply = el("textarea", {
    id: "reply",
    name: "body",
    rows: "3",
    maxlength: "4000",
    "aria-describedby": "reply-hint",
  });
  submitOnEnter(reply);
  reply.addEventListener("input", () => {
    dispatch({ type: "ui.draft", data: { work_item_id: id, text: reply.value } });
    drafts.keepDraft(id, reply.value);
    const current = getState().items.find((candidate) => candidate.id === id);
    // A note is not something the customer waits for.
    if (item.data.channel === "chat" && current && !current.noteMode) typing.input(id, reply.value);
  });
  if (item.data.channel === "chat") reply.addEventListener("blur", () => typing.stop(id));
  return reply;
}

function noteToggle(id, isChat, { dispatch, drafts, typing }) {
  const internal = el("input", { type: "checkbox", id: "reply-internal" });
  internal.addEventListener("change", () => {
    dispatch({ type: "ui.note-mode", data: { work_item_id: id, on: internal.checked } });
    drafts.keepNoteMode(id, internal.checked);
    if (internal.checked && isChat) typing.stop(id);
  });
  return internal;
}

/** A canned response, its placeholders filled, added to the draft. */
function cannedSelect(canned, reply, data, { dispatch, drafts, getState }) {
  const select = el(
    "select",
    { id: "canned", "aria-label": "Insert a canned response" },
    el("option", { value: "" }, "Canned response…"),
    canned.map((answer) => el("option", { value: answer.id }, answer.title)),
  );
  select.addEventListener("change", () => {
    const answer = canned.find((candidate) => String(candidate.id) === select.value);
    select.value = "";
    if (!answer) return;
    const { agent } = getState();
    const text = withCannedText(reply.value, fillPlaceholders(answer.body, data, agent && agent.name));
    dispatch({ type: "ui.draft", data: { work_item_id: data.work_item_id, text } });
    drafts.keepDraft(data.work_item_id, text);
    reply.focus();
  });
  return select;
}

/** A note (`work.note`), an email with files (through the API), or a reply (`message.send`). */
function submitReply(item, body, files, { dispatch, send, showError, drafts, typing }) {
  const id = item.id;
  if (item.noteMode) {
    if (send("work.note", { work_item_id: id, body })) {
      drafts.forget(id);
      dispatch({ type: "ui.note-sent", data: { work_item_id: id, body } });
    }
    return;
  }
  if (files && files.files.length) {
    sendWithFiles(id, body, files, showError).then((sent) => {
      if (!sent) return;
      files.value = "";
      drafts.forget(id);
      dispatch({ type: "ui.files-sent", data: { work_item_id: id } });
    });
    return;
  }
  if (send("message.send", { work_item_id: id, body })) {
    drafts.forget(id);
    dispatch({ type: "ui.reply-sent", data: { work_item_id: id, body } });
    if (item.data.channel === "chat") typing.stop(id);
  }
}

/** An email reply with files goes through the API (the socket carries text only). */
async function sendWithFiles(workItemId, body, input, showError) {
  const payload = new FormData();
  payload.append("body", body);
  for (const file of input.files) payload.append("files", file);
  try {
    const response = await fetch(`/api/work-items/${workItemId}/replies/`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
      body: payload,
    });
    if (response.ok) return true;
    const answer = await response.json().catch(() => ({}));
    showError(answer.error || "The reply was not sent.");
  } catch (error) {
    showError("The reply was not sent: the server could not be reached.");
  }
  return false;
}
