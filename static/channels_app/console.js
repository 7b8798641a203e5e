// Agent console: /console/ → /ws/agent/ (see docs/protocol.md).
import {
  appendToLog,
  connectSocket,
  csrfToken,
  el,
  formatDuration,
  messageItem,
  secondsSince,
  submitOnEnter,
} from "../contactcenter/socket.js";

const $ = (id) => document.getElementById(id);
const presence = $("presence");
const capacity = $("capacity");
const statusTime = $("status-time");
const connection = $("connection");
const banner = $("error-banner");
const announcer = $("announcer");
const offerList = $("offer-list");
const tabList = $("tabs");
const work = $("work");

const state = {
  agent: null,
  statuses: [],
  declineReasons: [], // [{id, name}] from the admin's list
  offers: new Map(), // offer_id → {data, deadline, card, countdown, waited, buttons}
  items: new Map(), // work_item_id → {data, messages, unread, draft}
  activeId: null,
  panel: null, // {id, log, reply, closeButton} of the rendered panel
  lastSent: null, // {workItemId, body} of the last message.send
};

const pendingDeliveries = new Map(); // message id → message.delivery data not yet matched
const socket = connectSocket("/ws/agent/", { onFrame, onStatusChange: showConnection });

function send(type, data) {
  if (socket.send(type, data)) return true;
  showError("Not connected — please wait while we reconnect.");
  return false;
}

// ---------- connection and errors ----------

function showConnection(status, code) {
  const text = {
    connecting: "Connecting…",
    connected: "Connected",
    reconnecting: "Reconnecting…",
    closed: "Disconnected",
    refused: code === 4401 ? "Signed out — reload to log in" : "Not allowed to use the console",
  }[status];
  connection.textContent = text || status;
  connection.dataset.state = status;
  presence.disabled = status !== "connected" || !state.statuses.length;
}

function showError(message) {
  banner.replaceChildren(
    el("p", {}, message),
    el("button", { type: "button", class: "button button--quiet", onclick: () => banner.replaceChildren() }, "Dismiss"),
  );
}

function onError(data) {
  showError(data.message || "Something went wrong.");
  if (data.ref === "offer.accept" || data.ref === "offer.decline") {
    for (const offer of state.offers.values()) setOfferButtons(offer, false);
  }
  if (data.ref === "presence.set") renderAgent();
  if (data.ref === "work.close" && state.panel) state.panel.closeButton.disabled = false;
  if (data.ref === "work.note" && state.panel && !state.panel.reply.value && state.lastNote) {
    state.panel.reply.value = state.lastNote;
  }
  const last = state.lastSent;
  if (data.ref === "message.send" && last && state.panel && state.panel.id === last.workItemId) {
    if (!state.panel.reply.value) state.panel.reply.value = last.body;
  }
}

// ---------- frames ----------

function onFrame({ type, data }) {
  switch (type) {
    case "console.snapshot":
      return applySnapshot(data);
    case "agent.updated":
      state.agent = data;
      return renderAgent();
    case "offer.created":
      addOffer(data);
      alertNewOffer(data);
      announcer.textContent = `New offer from ${data.customer_name}`;
      return renderOffers();
    case "offer.closed":
      state.offers.delete(data.offer_id);
      return renderOffers();
    case "work.assigned":
      addItem(data);
      return activate(data.work_item_id);
    case "work.closed":
      forgetDraft(data.work_item_id);
      showWrapUp(data.wrap_up_until);
      return removeItem(data.work_item_id);
    case "message.created":
      return addMessage(data);
    case "chat.typing":
      return showCustomerTyping(data);
    case "message.delivery":
      return updateDelivery(data);
    case "error":
      return onError(data);
  }
}

function applySnapshot(data) {
  state.agent = data.agent;
  state.statuses = data.statuses || [];
  state.declineReasons = data.decline_reasons || [];
  state.dispositions = data.dispositions || [];
  state.canned = data.canned_responses || [];
  state.targets = data.transfer_targets || { queues: [], agents: [], skills: [] };
  state.offers.clear();
  (data.offers || []).forEach(addOffer);
  const previous = state.activeId;
  const drafts = new Map([...state.items].map(([id, item]) => [id, item.draft]));
  const noteModes = new Map([...state.items].map(([id, item]) => [id, item.noteMode]));
  if (state.panel) drafts.set(state.panel.id, state.panel.reply.value);
  state.items.clear();
  state.panel = null;
  for (const item of data.work_items || []) {
    addItem(item);
    const restored = state.items.get(item.work_item_id);
    restored.draft = drafts.get(item.work_item_id) || "";
    restored.noteMode = noteModes.get(item.work_item_id) || false;
  }
  dropStaleDrafts();
  state.activeId = state.items.has(previous) ? previous : firstItemId();
  renderAgent();
  renderOffers();
  renderTabs();
  renderPanel();
  presence.disabled = !socket.isOpen || !state.statuses.length;
}

// ---------- agent: presence, capacity, time in status ----------

function renderAgent() {
  const agent = state.agent;
  if (!agent) return;
  const options = [];
  if (agent.status_id == null) {
    options.push(el("option", { value: "", disabled: true, selected: true }, "Offline"));
  }
  const known = state.statuses.some((s) => s.id === agent.status_id);
  if (agent.status_id != null && !known) {
    options.push(el("option", { value: agent.status_id, selected: true }, agent.status_name));
  }
  for (const status of state.statuses) {
    options.push(
      el("option", { value: status.id, selected: status.id === agent.status_id }, status.name),
    );
  }
  presence.replaceChildren(...options);
  presence.value = agent.status_id == null ? "" : String(agent.status_id);
  capacity.textContent = `Capacity: ${agent.used_units}/${agent.capacity}`;
  capacity.dataset.full = String(agent.used_units >= agent.capacity);
  tickStatusTime();
}

function tickStatusTime() {
  const agent = state.agent;
  if (!agent) return;
  const name = agent.status_name || "Offline";
  statusTime.textContent = agent.status_since
    ? `${name} for ${formatDuration(secondsSince(agent.status_since))}`
    : name;
}

presence.addEventListener("change", () => {
  const statusId = Number(presence.value);
  if (!statusId) return;
  if (!send("presence.set", { status_id: statusId })) renderAgent();
});

// ---------- offers ----------

function addOffer(data) {
  const offer = {
    data,
    deadline: Date.now() + Math.max(0, Number(data.remaining_seconds) || 0) * 1000,
    answered: false,
  };
  const countdown = el("p", { class: "offer__countdown" });
  const waited = el("span");
  const accept = el("button", { type: "button", class: "button button--primary" }, "Accept");
  const decline = el("button", { type: "button", class: "button" }, "Decline");
  const reason = el(
    "select",
    { class: "offer__reason", "aria-label": "Reason for declining" },
    el("option", { value: "" }, "Reason…"),
    ...state.declineReasons.map((r) => el("option", { value: String(r.id) }, r.name)),
  );
  accept.addEventListener("click", () => answer(offer, "offer.accept", { offer_id: data.offer_id }));
  decline.addEventListener("click", () => {
    const frame = { offer_id: data.offer_id };
    if (reason.value) frame.reason_id = Number(reason.value);
    answer(offer, "offer.decline", frame);
  });
  offer.card = el(
    "article",
    { class: "offer", "aria-label": `Offer from ${data.customer_name}` },
    el("h3", { class: "offer__customer" }, data.customer_name),
    el("p", { class: "offer__meta" }, `${data.channel} · ${data.queue}`),
    data.preview ? el("blockquote", { class: "offer__preview" }, data.preview) : null,
    el("p", { class: "offer__meta" }, "Waited ", waited),
    countdown,
    el(
      "div",
      { class: "offer__actions" },
      accept,
      state.declineReasons.length ? reason : null,
      decline,
    ),
  );
  Object.assign(offer, { countdown, waited, buttons: [accept, decline, reason], accept, decline, reason });
  state.offers.set(data.offer_id, offer);
  tickOffer(offer);
}

function answer(offer, type, data) {
  offer.answered = true;
  setOfferButtons(offer);
  if (!send(type, data)) {
    offer.answered = false;
    setOfferButtons(offer);
  }
}

function remainingSeconds(offer) {
  return Math.max(0, Math.ceil((offer.deadline - Date.now()) / 1000));
}

function setOfferButtons(offer, answered = offer.answered) {
  offer.answered = answered;
  const disabled = answered || remainingSeconds(offer) === 0;
  for (const button of offer.buttons) button.disabled = disabled;
}

function tickOffer(offer) {
  const left = remainingSeconds(offer);
  offer.countdown.textContent = left > 0 ? `Expires in ${left}s` : "Expired";
  offer.card.dataset.expired = String(left === 0);
  offer.waited.textContent = formatDuration(secondsSince(offer.data.waiting_since));
  setOfferButtons(offer);
}

function renderOffers() {
  offerList.replaceChildren(...[...state.offers.values()].map((offer) => offer.card));
  $("offers-empty").hidden = state.offers.size > 0;
}

// ---------- work items: tabs and the active panel ----------

function addItem(data) {
  const existing = state.items.get(data.work_item_id);
  const item = existing || { messages: [], ids: new Set(), unread: false, draft: "" };
  item.data = data;
  for (const message of data.messages || []) {
    if (!item.ids.has(message.id)) {
      item.ids.add(message.id);
      item.messages.push(message);
    }
  }
  state.items.set(data.work_item_id, item);
}

function firstItemId() {
  const first = state.items.keys().next();
  return first.done ? null : first.value;
}

function removeItem(id) {
  if (!state.items.has(id)) return;
  const keys = [...state.items.keys()];
  const index = keys.indexOf(id);
  state.items.delete(id);
  if (state.activeId === id) {
    const rest = keys.filter((key) => key !== id);
    state.activeId = rest.length ? rest[Math.min(index, rest.length - 1)] : null;
    state.panel = null;
    renderTabs();
    renderPanel();
  } else {
    renderTabs();
  }
}

function addMessage(message) {
  let id = message.work_item_id;
  if (!state.items.has(id)) {
    // Fall back to the interaction when the message names no work item of ours.
    id = [...state.items.keys()].find(
      (key) => state.items.get(key).data.interaction_id === message.interaction_id,
    );
  }
  const item = state.items.get(id);
  if (!item || item.ids.has(message.id)) return;
  const outcome = pendingDeliveries.get(message.id);
  if (outcome) {
    pendingDeliveries.delete(message.id);
    message.delivery = outcome.delivery;
    message.delivery_error = outcome.delivery_error;
  }
  item.ids.add(message.id);
  item.messages.push(message);
  if (state.activeId === id && state.panel) {
    appendToLog(state.panel.log, messageItem(message, "agent"));
  } else if (message.sender !== "agent") {
    item.unread = true;
    renderTabs();
  }
}

/** A reply on email, SMS, WhatsApp or social was sent out by its provider, or failed. */
function updateDelivery(data) {
  // The outcome may overtake the message itself (separate pushes): kept until it arrives.
  pendingDeliveries.set(data.id, data);
  for (const item of state.items.values()) {
    if (item.data.interaction_id !== data.interaction_id) continue;
    const message = item.messages.find((candidate) => candidate.id === data.id);
    if (!message) continue;
    pendingDeliveries.delete(data.id);
    message.delivery = data.delivery;
    message.delivery_error = data.delivery_error;
    const shown = state.panel && state.panel.log.querySelector(`[data-message-id="${data.id}"]`);
    if (shown) shown.replaceWith(messageItem(message, "agent"));
    if (data.delivery === "failed") announcer.textContent = "A reply could not be delivered";
  }
}

function activate(id, focusTab = false) {
  if (!state.items.has(id)) return;
  if (state.panel && state.items.has(state.panel.id)) {
    state.items.get(state.panel.id).draft = state.panel.reply.value;
  }
  state.activeId = id;
  state.items.get(id).unread = false;
  renderTabs(focusTab);
  renderPanel();
}

function renderTabs(focusTab = false) {
  const hadFocus = tabList.contains(document.activeElement);
  const tabs = [...state.items].map(([id, item]) => {
    const active = id === state.activeId;
    return el(
      "button",
      {
        type: "button",
        role: "tab",
        id: `tab-${id}`,
        class: "tab",
        "aria-selected": String(active),
        "aria-controls": "work",
        "aria-describedby": item.unread ? "unread-hint" : null,
        tabindex: active ? "0" : "-1",
        "data-unread": String(item.unread),
        onclick: () => activate(id),
      },
      el("span", { class: "tab__name" }, item.data.customer_name),
      el("span", { class: "tab__dot", "aria-hidden": "true" }),
    );
  });
  tabList.replaceChildren(...tabs);
  $("tabs-empty").hidden = state.items.size > 0;
  if (focusTab || hadFocus) {
    const current = $(`tab-${state.activeId}`);
    if (current) current.focus();
  }
}

tabList.addEventListener("keydown", (event) => {
  const keys = [...state.items.keys()];
  const index = keys.indexOf(state.activeId);
  if (index < 0) return;
  const moves = {
    ArrowDown: index + 1,
    ArrowRight: index + 1,
    ArrowUp: index - 1,
    ArrowLeft: index - 1,
    Home: 0,
    End: keys.length - 1,
  };
  if (!(event.key in moves)) return;
  event.preventDefault();
  activate(keys[(moves[event.key] + keys.length) % keys.length], true);
});

function renderPanel() {
  const item = state.items.get(state.activeId);
  if (!item) {
    state.panel = null;
    work.removeAttribute("role");
    work.removeAttribute("aria-labelledby");
    work.replaceChildren(el("p", { class: "work__empty muted" }, "Accept an offer to start a conversation."));
    return;
  }
  const data = item.data;
  const log = el("ol", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Transcript" });
  log.append(...item.messages.map((message) => messageItem(message, "agent")));
  const reply = el("textarea", {
    id: "reply",
    name: "body",
    rows: "3",
    maxlength: "4000",
    "aria-describedby": "reply-hint",
  });
  reply.value = item.draft || savedDraft(data.work_item_id);
  submitOnEnter(reply);
  const typingLine = el("p", { class: "typing muted", "aria-live": "polite" }, "");
  if (data.channel === "chat") watchOwnTyping(reply, data.work_item_id);
  const closeButton = el("button", { type: "button", class: "button button--danger" }, "Close");
  const disposition = el(
    "select",
    { id: "disposition", "aria-label": "Disposition" },
    el("option", { value: "" }, "How did it end?"),
    state.dispositions.map((option) => el("option", { value: option.id }, option.name)),
  );
  closeButton.addEventListener("click", () => {
    const chosen = disposition.value ? Number(disposition.value) : null;
    if (state.dispositions.length && chosen === null) {
      showError("Choose how the conversation ended before closing it.");
      disposition.focus();
      return;
    }
    closeButton.disabled = true;
    const frame = { work_item_id: data.work_item_id };
    if (chosen !== null) frame.disposition_id = chosen;
    if (!send("work.close", frame)) closeButton.disabled = false;
  });
  const isCall = data.channel === "voice";
  const callTimer = el("span", { class: "call__timer", role: "timer" }, "");
  const form = el(
    "form",
    { class: "composer", hidden: isCall },
    el("label", { for: "reply" }, "Reply"),
    el(
      "div",
      { class: "composer__row" },
      reply,
      el("button", { type: "submit", class: "button button--primary" }, "Send"),
    ),
    el("p", { id: "reply-hint", class: "hint" }, "Enter sends, Shift+Enter adds a new line."),
  );
  const counter = el("p", { class: "hint", id: "reply-counter", "aria-live": "polite" });
  const countSegments = () => {
    if (data.channel === "sms") counter.textContent = smsSegments(reply.value);
  };
  reply.addEventListener("input", countSegments);
  countSegments();
  if (state.canned.length) {
    const canned = el(
      "select",
      { id: "canned", "aria-label": "Insert a canned response" },
      el("option", { value: "" }, "Canned response…"),
      state.canned.map((answer) => el("option", { value: answer.id }, answer.title)),
    );
    canned.addEventListener("change", () => {
      const answer = state.canned.find((candidate) => String(candidate.id) === canned.value);
      canned.value = "";
      if (!answer) return;
      const text = fillPlaceholders(answer.body, data);
      reply.value = reply.value ? `${reply.value}\n${text}` : text;
      keepDraft(data.work_item_id, reply.value);
      countSegments();
      reply.focus();
    });
    form.append(canned);
  }
  if (data.channel === "sms") form.append(counter);
  const files =
    data.channel === "email" ? el("input", { type: "file", id: "reply-files", multiple: true }) : null;
  if (files) form.append(el("label", { for: "reply-files" }, "Attach files"), files);
  // Whether the box holds an internal note is kept with the draft: a note restored into a
  // reply box that would send it to the customer is the one mistake this must not allow.
  const internal = el("input", { type: "checkbox", id: "reply-internal", checked: item.noteMode || savedNoteMode(data.work_item_id) });
  item.noteMode = internal.checked;
  form.classList.toggle("composer--note", internal.checked);
  internal.addEventListener("change", () => {
    item.noteMode = internal.checked;
    keepNoteMode(data.work_item_id, internal.checked);
    form.classList.toggle("composer--note", internal.checked);
    if (internal.checked && data.channel === "chat") stopOwnTyping(data.work_item_id);
  });
  form.append(
    el(
      "label",
      { class: "composer__internal", for: "reply-internal" },
      internal,
      " Internal note (the customer never sees it)",
    ),
  );
  reply.addEventListener("input", () => keepDraft(data.work_item_id, reply.value));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = reply.value.trim();
    if (!body) return;
    if (internal.checked) {
      if (send("work.note", { work_item_id: data.work_item_id, body })) {
        state.lastNote = body;
        reply.value = "";
        forgetDraft(data.work_item_id);
        internal.checked = false;
        internal.dispatchEvent(new Event("change"));
      }
      return;
    }
    if (files && files.files.length) {
      sendWithFiles(data.work_item_id, body, files).then((sent) => {
        if (sent) {
          reply.value = "";
          files.value = "";
          forgetDraft(data.work_item_id);
        }
      });
      return;
    }
    if (send("message.send", { work_item_id: data.work_item_id, body })) {
      forgetDraft(data.work_item_id);
      state.lastSent = { workItemId: data.work_item_id, body };
      reply.value = "";
      if (data.channel === "chat") stopOwnTyping(data.work_item_id);
    }
  });

  work.setAttribute("role", "tabpanel");
  work.setAttribute("aria-labelledby", `tab-${data.work_item_id}`);
  // Without the parts this item has none of (null): replaceChildren would print "null".
  const parts = [
    el(
      "header",
      { class: "work__head" },
      el(
        "div",
        {},
        el("h2", {}, data.customer_name),
        data.subject ? el("p", { class: "work__subject" }, `Subject: ${data.subject}`) : null,
        el(
          "p",
          { class: "muted" },
          data.customer_email,
          data.claimed_email ? `says ${data.claimed_email} (unverified)` : "",
          " · Case ",
          data.case_number,
          " · ",
          `${data.channel} · ${data.queue}`,
        ),
      ),
      el("div", { class: "work__close" }, state.dispositions.length ? disposition : null, closeButton),
    ),
    isCall
      ? el(
          "p",
          { class: "call" },
          `On a call with ${data.customer_address || data.customer_name} · `,
          callTimer,
        )
      : null,
    earlierConversations(data.earlier || []),
    customerHistory(data),
    log,
    typingLine,
    form,
    el("div", { class: "work__actions" }, isCall ? null : callCustomerForm(data), transferForm(data)),
  ];
  work.replaceChildren(...parts.filter(Boolean));
  state.panel = { id: data.work_item_id, log, reply, closeButton, typingLine, callTimer, isCall };
  tickCall();
  renderCustomerTyping();
  log.scrollTop = log.scrollHeight;
}

// ---------- clock ----------

function tickCall() {
  if (!state.panel || !state.panel.isCall) return;
  const item = state.items.get(state.panel.id);
  const since = item && (item.data.accepted_at || item.data.started_at);
  state.panel.callTimer.textContent = since ? formatDuration(secondsSince(since)) : "";
}

/** The case's conversations before this one (a chat before this call, an email before this chat). */
function earlierConversations(conversations) {
  if (!conversations.length) return null;
  const count = conversations.length;
  return el(
    "details",
    { class: "earlier" },
    el("summary", {}, `Earlier in this case (${count} conversation${count === 1 ? "" : "s"})`),
    conversations.map((conversation) =>
      el(
        "section",
        { class: "earlier__conversation", "aria-label": `Earlier ${conversation.channel}` },
        el("h3", {}, `${conversation.channel} · ${new Date(conversation.started_at).toLocaleString()}`),
        el(
          "ol",
          { class: "log log--earlier" },
          conversation.messages.map((message) => messageItem(message, "agent")),
        ),
      ),
    ),
  );
}

/** The customer 360: profile (editable), contact points, cases and every interaction on every
 * channel, read from the timeline API when opened. */
function customerHistory(data) {
  const body = el("div", { class: "history" }, "Loading…");
  const details = el(
    "details",
    { class: "earlier customer360" },
    el("summary", {}, "Customer 360 (profile, cases, all channels)"),
    body,
  );
  let loaded = false;
  details.addEventListener("toggle", async () => {
    if (!details.open || loaded) return;
    loaded = true;
    try {
      const response = await fetch(`/api/customers/${data.customer_id}/timeline/`, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (!response.ok) throw new Error(String(response.status));
      const timeline = await response.json();
      body.replaceChildren(
        profileForm(timeline.customer),
        el(
          "p",
          { class: "history__meta" },
          "Contact points: ",
          timeline.customer.contact_points.map((point) => `${point.kind} ${point.value}`).join(" · ") ||
            "none",
        ),
        el(
          "ul",
          { class: "history__list", "aria-label": "Cases" },
          timeline.cases.map((c) =>
            el("li", { class: "history__item" }, `Case ${c.number} · ${c.status} · ${c.subject || "(no subject)"}`),
          ),
        ),
        timelineList(timeline.interactions),
      );
    } catch (error) {
      loaded = false;
      body.replaceChildren("The customer could not be loaded. Close and open this to try again.");
    }
  });
  return details;
}

function timelineList(interactions) {
  if (!interactions.length) return el("p", {}, "No earlier contacts.");
  return el(
    "ul",
    { class: "history__list", "aria-label": "Timeline" },
    interactions.map((interaction) => {
      const first = interaction.messages.find((message) => message.sender === "customer");
      return el(
        "li",
        { class: "history__item" },
        el(
          "span",
          { class: "history__meta" },
          `${new Date(interaction.started_at).toLocaleString()} · ${interaction.channel} · `,
          `Case ${interaction.case.number} · ${interaction.status}`,
          interaction.agents.length ? ` · ${interaction.agents.join(", ")}` : "",
        ),
        first ? el("span", { class: "history__text" }, first.body) : null,
      );
    }),
  );
}

/** Name, tier, language and notes, saved through the API. */
function profileForm(customer) {
  const fields = {
    name: el("input", { id: "customer-name", value: customer.name, maxlength: "120" }),
    tier: el("input", { id: "customer-tier", value: customer.tier, maxlength: "40" }),
    language: el("input", { id: "customer-language", value: customer.language, maxlength: "16" }),
    notes: el("textarea", { id: "customer-notes", rows: "3", maxlength: "10000" }),
  };
  fields.notes.value = customer.notes || "";
  const saved = el("span", { class: "muted", role: "status" }, "");
  const form = el(
    "form",
    { class: "profile" },
    ["name", "tier", "language", "notes"].map((field) =>
      el("div", { class: "field" }, el("label", { for: `customer-${field}` }, field[0].toUpperCase() + field.slice(1)), fields[field]),
    ),
    el("button", { type: "submit", class: "button" }, "Save customer"),
    saved,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    saved.textContent = "Saving…";
    const changes = Object.fromEntries(Object.entries(fields).map(([key, input]) => [key, input.value]));
    try {
      const response = await fetch(`/api/customers/${customer.id}/`, {
        method: "PATCH",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify(changes),
      });
      const answer = await response.json();
      saved.textContent = response.ok ? "Saved." : `Not saved: ${answer.error || response.status}`;
    } catch (error) {
      saved.textContent = "Not saved: the server could not be reached.";
    }
  });
  return form;
}

/** Move a text conversation to a call: the call comes back to this agent once placed. */
function callCustomerForm(data) {
  const phone = el("input", {
    id: "call-phone",
    name: "phone",
    type: "tel",
    autocomplete: "off",
    placeholder: "Customer's number, if not on file",
  });
  const button = el("button", { type: "submit", class: "button" }, "Call customer");
  const form = el(
    "form",
    { class: "call-form" },
    el("label", { for: "call-phone" }, "Call the customer"),
    el("div", { class: "composer__row" }, phone, button),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (send("work.call", { work_item_id: data.work_item_id, phone: phone.value.trim() })) {
      phone.value = "";
    }
  });
  return form;
}

setInterval(() => {
  tickCall();
  tickStatusTime();
  for (const offer of state.offers.values()) tickOffer(offer);
}, 1000);

// ---------- typing ----------

// A typing notice lapses on its own: the other side may close the page mid-sentence.
const TYPING_SHOWN_MS = 6000;
const TYPING_REPEAT_MS = 3000;
const customerTyping = new Map();
let ownTyping = { workItemId: null, sentAt: 0 };

function showCustomerTyping(data) {
  clearTimeout(customerTyping.get(data.work_item_id));
  if (data.typing) {
    customerTyping.set(
      data.work_item_id,
      setTimeout(() => {
        customerTyping.delete(data.work_item_id);
        renderCustomerTyping();
      }, TYPING_SHOWN_MS),
    );
  } else {
    customerTyping.delete(data.work_item_id);
  }
  renderCustomerTyping();
}

function renderCustomerTyping() {
  if (!state.panel) return;
  const item = state.items.get(state.panel.id);
  state.panel.typingLine.textContent =
    item && customerTyping.has(state.panel.id) ? `${item.data.customer_name} is typing…` : "";
}

function watchOwnTyping(textarea, workItemId) {
  textarea.addEventListener("input", () => {
    const item = state.items.get(workItemId);
    if (item && item.noteMode) return; // A note is not something the customer waits for.
    const now = Date.now();
    if (!textarea.value.trim()) return stopOwnTyping(workItemId);
    if (ownTyping.workItemId === workItemId && now - ownTyping.sentAt < TYPING_REPEAT_MS) return;
    ownTyping = { workItemId, sentAt: now };
    send("work.typing", { work_item_id: workItemId, typing: true });
  });
  textarea.addEventListener("blur", () => stopOwnTyping(workItemId));
}

function stopOwnTyping(workItemId) {
  if (ownTyping.workItemId !== workItemId) return;
  ownTyping = { workItemId: null, sentAt: 0 };
  // A closed item has no customer left to tell.
  if (state.items.has(workItemId)) send("work.typing", { work_item_id: workItemId, typing: false });
}

// ---------- transfer ----------

/** Hand the conversation to a queue, a colleague or a skill, with a note for them. */
function transferForm(data) {
  const target = el(
    "select",
    { id: "transfer-target" },
    el("option", { value: "" }, "Choose…"),
    el(
      "optgroup",
      { label: "Queues" },
      state.targets.queues.map((queue) => el("option", { value: `queue:${queue.id}` }, queue.name)),
    ),
    el(
      "optgroup",
      { label: "Agents" },
      state.targets.agents.map((agent) => el("option", { value: `agent:${agent.id}` }, agent.name)),
    ),
    el(
      "optgroup",
      { label: "Skills" },
      state.targets.skills.map((skill) => el("option", { value: `skill:${skill.id}` }, skill.name)),
    ),
  );
  const note = el("input", { id: "transfer-note", type: "text", maxlength: "1000" });
  const button = el("button", { type: "submit", class: "button" }, "Transfer");
  const form = el(
    "form",
    { class: "transfer-form" },
    el("label", { for: "transfer-target" }, "Transfer to"),
    el(
      "div",
      { class: "composer__row" },
      target,
      el("label", { for: "transfer-note", class: "visually-hidden" }, "Transfer note"),
      note,
      button,
    ),
  );
  note.placeholder = "Note for whoever takes it";
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const [kind, id] = target.value.split(":");
    if (!id) {
      showError("Choose where to transfer the conversation.");
      target.focus();
      return;
    }
    const field = { queue: "queue_id", agent: "agent_id", skill: "skill_id" }[kind];
    send("work.transfer", { work_item_id: data.work_item_id, [field]: Number(id), note: note.value.trim() });
  });
  return form;
}

// ---------- wrap-up ----------

let wrapUpTimer = null;

/** After closing, the configured wrap-up time holds capacity: show how much is left. */
function showWrapUp(until) {
  const line = $("wrap-up");
  clearInterval(wrapUpTimer);
  if (!until) {
    // A transfer has no wrap-up; an earlier countdown stays only if it is still running.
    if (!line.dataset.until || new Date(line.dataset.until).getTime() <= Date.now()) line.hidden = true;
    if (!line.hidden) until = line.dataset.until;
    else return;
  }
  line.dataset.until = until;
  const end = new Date(until).getTime();
  const tick = () => {
    const left = Math.ceil((end - Date.now()) / 1000);
    if (left <= 0) {
      line.hidden = true;
      clearInterval(wrapUpTimer);
      return;
    }
    line.hidden = false;
    line.textContent = `Wrap-up: ${formatDuration(left)} left before new work`;
  };
  tick();
  wrapUpTimer = setInterval(tick, 1000);
}

// ---------- drafts ----------

// Kept in this browser, so that a reload or a crash does not lose a half-written reply.
const DRAFT_KEY = (id) => `cc-console-draft:${state.agent ? state.agent.id : "?"}:${id}`;
const NOTE_KEY = (id) => `cc-console-note-mode:${state.agent ? state.agent.id : "?"}:${id}`;

function keepNoteMode(id, on) {
  try {
    if (on) localStorage.setItem(NOTE_KEY(id), "1");
    else localStorage.removeItem(NOTE_KEY(id));
  } catch {
    // Kept in the page only.
  }
}

function savedNoteMode(id) {
  try {
    return localStorage.getItem(NOTE_KEY(id)) === "1";
  } catch {
    return false;
  }
}

/** Drafts of conversations this agent no longer holds (closed elsewhere, transferred). */
function dropStaleDrafts() {
  if (!state.agent) return;
  const prefixes = [`cc-console-draft:${state.agent.id}:`, `cc-console-note-mode:${state.agent.id}:`];
  try {
    for (const key of Object.keys(localStorage)) {
      const prefix = prefixes.find((candidate) => key.startsWith(candidate));
      if (prefix && !state.items.has(Number(key.slice(prefix.length)))) localStorage.removeItem(key);
    }
  } catch {
    // Nothing to tidy where storage is blocked.
  }
}

function keepDraft(id, text) {
  try {
    if (text) localStorage.setItem(DRAFT_KEY(id), text);
    else localStorage.removeItem(DRAFT_KEY(id));
  } catch {
    // Storage full or blocked: the draft lives only in the page.
  }
}

function savedDraft(id) {
  try {
    return localStorage.getItem(DRAFT_KEY(id)) || "";
  } catch {
    return "";
  }
}

function forgetDraft(id) {
  keepDraft(id, "");
  keepNoteMode(id, false);
}

// ---------- keyboard ----------

document.addEventListener("keydown", (event) => {
  if (!event.altKey || event.ctrlKey || event.metaKey) return;
  // By key position: on a Mac, Alt changes the character typed (Alt+A is "å").
  const key = { KeyA: "a", KeyD: "d", KeyN: "n", KeyP: "p" }[event.code];
  if (!key) return;
  const oldest = [...state.offers.values()].find(
    (offer) => !offer.answered && remainingSeconds(offer) > 0,
  );
  if (key === "a" && oldest) {
    event.preventDefault();
    oldest.accept.click();
  } else if (key === "d" && oldest) {
    event.preventDefault();
    // A reason is needed first when any are configured: take the agent to the list.
    if (state.declineReasons.length && !oldest.reason.value) oldest.reason.focus();
    else oldest.decline.click();
  } else if (key === "n" || key === "p") {
    const keys = [...state.items.keys()];
    if (!keys.length) return;
    event.preventDefault();
    const index = Math.max(0, keys.indexOf(state.activeId));
    const step = key === "n" ? 1 : -1;
    activate(keys[(index + step + keys.length) % keys.length], true);
  }
});

// ---------- canned responses and SMS length ----------

/** {customer_name}, {first_name}, {case_number}, {agent_name} filled for this conversation. */
function fillPlaceholders(body, data) {
  const values = {
    customer_name: data.customer_name || "",
    first_name: (data.customer_name || "").split(/\s+/)[0] || "",
    case_number: data.case_number || "",
    agent_name: (state.agent && state.agent.name) || "",
  };
  return body.replace(/\{(customer_name|first_name|case_number|agent_name)\}/g, (_, key) => values[key]);
}

// The GSM 03.38 basic set and its extension (which costs two characters each).
const GSM_BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXTENDED = "^{}\\[~]|€\f";

/** "42 characters · 1 SMS" (GSM-7: 160, or 153 per part; otherwise Unicode: 70, or 67). */
function smsSegments(text) {
  let gsmLength = 0;
  let gsm = true;
  for (const char of text) {
    if (GSM_BASIC.includes(char)) gsmLength += 1;
    else if (GSM_EXTENDED.includes(char)) gsmLength += 2;
    else gsm = false;
  }
  const length = gsm ? gsmLength : [...text].length;
  const [single, part] = gsm ? [160, 153] : [70, 67];
  const parts = length === 0 ? 0 : length <= single ? 1 : Math.ceil(length / part);
  const kind = gsm ? "" : " (Unicode)";
  return `${length} characters · ${parts} SMS${kind}`;
}

// ---------- sound and notifications ----------

const ALERTS_KEY = "cc-console-alerts";

function alertSettings() {
  try {
    return { sound: true, notify: false, ...JSON.parse(localStorage.getItem(ALERTS_KEY) || "{}") };
  } catch {
    return { sound: true, notify: false };
  }
}

function saveAlertSettings(settings) {
  try {
    localStorage.setItem(ALERTS_KEY, JSON.stringify(settings));
  } catch {
    // Not kept across reloads, then.
  }
}

function mountAlertToggles() {
  const settings = alertSettings();
  const sound = el("input", { type: "checkbox", id: "alert-sound", checked: settings.sound });
  const notify = el("input", { type: "checkbox", id: "alert-notify", checked: settings.notify });
  sound.addEventListener("change", () => saveAlertSettings({ ...alertSettings(), sound: sound.checked }));
  notify.addEventListener("change", async () => {
    if (notify.checked && "Notification" in window && Notification.permission !== "granted") {
      const answer = await Notification.requestPermission();
      if (answer !== "granted") notify.checked = false;
    }
    saveAlertSettings({ ...alertSettings(), notify: notify.checked });
  });
  document.querySelector(".console__bar").append(
    el("label", { class: "toggle", for: "alert-sound" }, sound, " Sound"),
    el("label", { class: "toggle", for: "alert-notify" }, notify, " Notifications"),
  );
}

let audio = null;

/** A new offer while the tab is hidden: a short tone and a desktop notification, if wanted. */
function alertNewOffer(data) {
  if (!document.hidden) return;
  const settings = alertSettings();
  if (settings.sound) {
    try {
      audio = audio || new AudioContext();
      const tone = audio.createOscillator();
      const volume = audio.createGain();
      volume.gain.value = 0.08;
      tone.frequency.value = 880;
      tone.connect(volume).connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.25);
    } catch {
      // No audio output: the notification and the page still show the offer.
    }
  }
  if (settings.notify && "Notification" in window && Notification.permission === "granted") {
    const note = new Notification(`New offer: ${data.customer_name}`, {
      body: `${data.channel} · ${data.queue}${data.preview ? ` — ${data.preview}` : ""}`,
      tag: `offer-${data.offer_id}`,
    });
    note.onclick = () => {
      window.focus();
      note.close();
    };
  }
}

mountAlertToggles();

// ---------- files on email replies ----------

/** An email reply with files goes through the API (the socket carries text only). */
async function sendWithFiles(workItemId, body, input) {
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
