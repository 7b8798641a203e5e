// The agent console's state and the one function that changes it: reduce(state, action, now).
//
// Actions are the server's frames (docs/protocol.md) and the console's own "ui.*" actions, both
// in the frame's shape {type, data}. Everything the panels show about the data is decided here:
// which conversation is active and which takes over when one closes, unread markers, drafts and
// note mode, deliveries that overtook their message, offers and when they expire, the customer's
// typing, the wrap-up end, the error banner. The panels only draw it.
//
// Pure on purpose: no DOM, no timers, no socket, and the clock comes in as `now` (ms), so that
// the node tests (tests/js/) run it as it is and a reconnect's snapshot is one more action.
// The state is never changed in place: every action returns a new object, and the parts it did
// not touch are the same objects as before (the panels compare them to skip work).

/** How long a customer counts as typing after their last `chat.typing` (they may just leave). */
export const TYPING_SHOWN_MS = 6000;

export function initialState() {
  return {
    connection: { status: "connecting", code: null },
    agent: null,
    // The status the agent just chose, until the server confirms it (or refuses: the list
    // then shows the agent's real status again).
    presencePending: null,
    statuses: [],
    declineReasons: [],
    dispositions: [],
    canned: [],
    targets: { queues: [], agents: [], skills: [] },
    offers: [], // [{data, receivedAt, deadline, answered}], oldest first
    items: [], // [{id, data, messages, unread, draft, noteMode, closing}], in tab order
    activeId: null,
    pendingDeliveries: {}, // message id → message.delivery data that arrived before its message
    typing: {}, // work item id → time (ms) until which its customer counts as typing
    wrapUpUntil: null, // ms
    lastSent: null, // {workItemId, body} of the last message.send
    lastNote: null, // {workItemId, body} of the last work.note
    banner: null, // {message}
    announcement: null, // {text} for the screen reader's live region
  };
}

const handlers = {
  "console.snapshot": applySnapshot,
  "agent.updated": (state, agent) => ({ ...state, agent, presencePending: null }),
  "offer.created": offerCreated,
  "offer.closed": (state, data) =>
    withOffers(state, (offers) => offers.filter((offer) => offer.data.offer_id !== data.offer_id)),
  "work.assigned": workAssigned,
  "work.closed": workClosed,
  "message.created": messageCreated,
  "message.delivery": messageDelivery,
  "chat.typing": chatTyping,
  error: errorFrame,

  "ui.connection": (state, { status, code = null }) => ({ ...state, connection: { status, code } }),
  "ui.activate": (state, { work_item_id }) => activate(state, work_item_id),
  "ui.presence": (state, { status_id }) => ({ ...state, presencePending: status_id }),
  "ui.presence-unsent": (state) => ({ ...state, presencePending: null }),
  "ui.answer": (state, { offer_id }) => setAnswered(state, offer_id, true),
  "ui.answer-unsent": (state, { offer_id }) => setAnswered(state, offer_id, false),
  "ui.draft": (state, { work_item_id, text }) => updateItem(state, work_item_id, { draft: text }),
  "ui.drafts-restored": draftsRestored,
  "ui.note-mode": (state, { work_item_id, on }) => updateItem(state, work_item_id, { noteMode: Boolean(on) }),
  "ui.closing": (state, { work_item_id }) => updateItem(state, work_item_id, { closing: true }),
  "ui.close-unsent": (state, { work_item_id }) => updateItem(state, work_item_id, { closing: false }),
  "ui.reply-sent": (state, { work_item_id, body }) => ({
    ...updateItem(state, work_item_id, { draft: "" }),
    lastSent: { workItemId: work_item_id, body },
  }),
  "ui.note-sent": (state, { work_item_id, body }) => ({
    ...updateItem(state, work_item_id, { draft: "", noteMode: false }),
    lastNote: { workItemId: work_item_id, body },
  }),
  "ui.files-sent": (state, { work_item_id }) => updateItem(state, work_item_id, { draft: "" }),
  "ui.error": (state, { message }) => ({ ...state, banner: { message } }),
  "ui.dismiss": (state) => ({ ...state, banner: null }),
};

/** The state after one frame or console action; an unknown type changes nothing. */
export function reduce(state, action, now) {
  const handler = handlers[action.type];
  return handler ? handler(state, action.data || {}, now) : state;
}

// ---------- snapshot ----------

/** Everything anew, except what only this page knows: the active conversation and the drafts
 * (with their note mode) of the conversations that are still ours, as after a reconnect. */
function applySnapshot(state, data, now) {
  const before = new Map(state.items.map((item) => [item.id, item]));
  const items = (data.work_items || []).map((workItem) => {
    const kept = before.get(workItem.work_item_id);
    return {
      ...newItem(workItem),
      draft: kept ? kept.draft : "",
      noteMode: kept ? kept.noteMode : false,
    };
  });
  const stillThere = items.some((item) => item.id === state.activeId);
  return {
    ...state,
    agent: data.agent,
    presencePending: null,
    statuses: data.statuses || [],
    declineReasons: data.decline_reasons || [],
    dispositions: data.dispositions || [],
    canned: data.canned_responses || [],
    targets: data.transfer_targets || { queues: [], agents: [], skills: [] },
    offers: (data.offers || []).map((offer) => offerEntry(offer, now)),
    items,
    activeId: stillThere ? state.activeId : items.length ? items[0].id : null,
  };
}

/** Drafts and note modes kept in the browser fill the conversations that have none in memory. */
function draftsRestored(state, { drafts = {}, noteModes = {} }) {
  const items = state.items.map((item) => {
    const draft = item.draft || drafts[item.id] || "";
    const noteMode = item.noteMode || Boolean(noteModes[item.id]);
    return draft === item.draft && noteMode === item.noteMode ? item : { ...item, draft, noteMode };
  });
  return { ...state, items };
}

// ---------- offers ----------

function offerEntry(data, now) {
  const remaining = Math.max(0, Number(data.remaining_seconds) || 0);
  // From the time left at receipt, not from expires_at: the browser's clock may be off.
  return { data, receivedAt: now, deadline: now + remaining * 1000, answered: false };
}

function offerCreated(state, data, now) {
  const entry = offerEntry(data, now);
  const known = state.offers.some((offer) => offer.data.offer_id === data.offer_id);
  const offers = known
    ? state.offers.map((offer) => (offer.data.offer_id === data.offer_id ? entry : offer))
    : [...state.offers, entry];
  return { ...state, offers, announcement: { text: `New offer from ${data.customer_name}` } };
}

function withOffers(state, change) {
  return { ...state, offers: change(state.offers) };
}

function setAnswered(state, offerId, answered) {
  return withOffers(state, (offers) =>
    offers.map((offer) => (offer.data.offer_id === offerId ? { ...offer, answered } : offer)),
  );
}

/** Whole seconds left to answer (0 once expired). */
export function offerSecondsLeft(offer, now) {
  return Math.max(0, Math.ceil((offer.deadline - now) / 1000));
}

/** An offer can no longer be answered from this page: answered already, or expired. */
export function offerLocked(offer, now) {
  return offer.answered || offerSecondsLeft(offer, now) === 0;
}

/** The offer Alt+A and Alt+D act on: the oldest one still open. */
export function oldestOpenOffer(state, now) {
  return state.offers.find((offer) => !offerLocked(offer, now)) || null;
}

// ---------- work items ----------

function newItem(data) {
  const item = { id: data.work_item_id, data, messages: [], unread: false, draft: "", noteMode: false, closing: false };
  return withMessages(item, data.messages || []);
}

/** Append the messages the item does not hold yet (by id). */
function withMessages(item, messages) {
  const known = new Set(item.messages.map((message) => message.id));
  const fresh = [];
  for (const message of messages) {
    if (known.has(message.id)) continue;
    known.add(message.id);
    fresh.push(message);
  }
  return fresh.length ? { ...item, messages: [...item.messages, ...fresh] } : item;
}

function updateItem(state, id, changes) {
  if (!state.items.some((item) => item.id === id)) return state;
  return { ...state, items: state.items.map((item) => (item.id === id ? { ...item, ...changes } : item)) };
}

/** A conversation that becomes active is being read: its unread marker goes. */
function activate(state, id) {
  if (!state.items.some((item) => item.id === id)) return state;
  return { ...updateItem(state, id, { unread: false }), activeId: id };
}

/** Added at the end of the tabs (or updated where it is), and activated. */
function workAssigned(state, data) {
  const existing = state.items.find((item) => item.id === data.work_item_id);
  const item = existing ? withMessages({ ...existing, data }, data.messages || []) : newItem(data);
  const items = existing
    ? state.items.map((candidate) => (candidate === existing ? item : candidate))
    : [...state.items, item];
  return activate({ ...state, items }, item.id);
}

/** Gone from the tabs; when it was the active one, its neighbour (the next, else the one
 * before) takes over. Wrap-up: see wrapUpAfterClose. */
function workClosed(state, data, now) {
  const id = data.work_item_id;
  const { [id]: _, ...typing } = state.typing;
  const next = { ...state, typing, wrapUpUntil: wrapUpAfterClose(state.wrapUpUntil, data.wrap_up_until, now) };
  const index = state.items.findIndex((item) => item.id === id);
  if (index < 0) return next;
  const items = state.items.filter((item) => item.id !== id);
  if (state.activeId !== id) return { ...next, items };
  const neighbour = items.length ? items[Math.min(index, items.length - 1)].id : null;
  return neighbour === null ? { ...next, items, activeId: null } : activate({ ...next, items }, neighbour);
}

/** A close with wrap-up starts a new countdown; a transfer has none, and leaves an earlier
 * countdown running only while it has time left. */
function wrapUpAfterClose(current, until, now) {
  if (until) {
    const end = Date.parse(until);
    return Number.isNaN(end) ? null : end;
  }
  return current !== null && current > now ? current : null;
}

/** Whole seconds of wrap-up left (0: none, the line is hidden). */
export function wrapUpSecondsLeft(state, now) {
  return state.wrapUpUntil === null ? 0 : Math.max(0, Math.ceil((state.wrapUpUntil - now) / 1000));
}

export function activeItem(state) {
  return state.items.find((item) => item.id === state.activeId) || null;
}

// ---------- messages ----------

/** The item a message belongs to: by work item, else (an item that is not ours) by its
 * interaction among our open items. */
export function itemForMessage(state, message) {
  return (
    state.items.find((item) => item.id === message.work_item_id) ||
    state.items.find((item) => item.data.interaction_id === message.interaction_id) ||
    null
  );
}

/** Appended once; on a conversation that is not active, a message not from an agent (the
 * customer's, a system or bot line) sets the unread marker. */
function messageCreated(state, message) {
  const item = itemForMessage(state, message);
  if (!item || item.messages.some((known) => known.id === message.id)) return state;
  const outcome = state.pendingDeliveries[message.id];
  const shown = outcome
    ? { ...message, delivery: outcome.delivery, delivery_error: outcome.delivery_error }
    : message;
  const { [message.id]: _, ...pendingDeliveries } = state.pendingDeliveries;
  const unread = item.unread || (item.id !== state.activeId && message.sender !== "agent");
  const changed = { ...item, messages: [...item.messages, shown], unread };
  return {
    ...state,
    pendingDeliveries,
    items: state.items.map((candidate) => (candidate === item ? changed : candidate)),
  };
}

/** A reply on email, SMS, WhatsApp or social was handed to its provider, or refused. The
 * outcome may overtake the message itself (separate pushes): then it waits for it. */
function messageDelivery(state, data) {
  let found = false;
  const items = state.items.map((item) => {
    if (item.data.interaction_id !== data.interaction_id) return item;
    const index = item.messages.findIndex((message) => message.id === data.id);
    if (index < 0) return item;
    found = true;
    const messages = [...item.messages];
    messages[index] = { ...messages[index], delivery: data.delivery, delivery_error: data.delivery_error };
    return { ...item, messages };
  });
  if (!found) return { ...state, pendingDeliveries: { ...state.pendingDeliveries, [data.id]: data } };
  const failed = data.delivery === "failed";
  return {
    ...state,
    items,
    announcement: failed ? { text: "A reply could not be delivered" } : state.announcement,
  };
}

function chatTyping(state, data, now) {
  const { [data.work_item_id]: _, ...typing } = state.typing;
  if (data.typing) typing[data.work_item_id] = now + TYPING_SHOWN_MS;
  return { ...state, typing };
}

/** Whether the customer of this work item is typing now (a notice lapses on its own). */
export function customerTyping(state, workItemId, now) {
  const until = state.typing[workItemId];
  return until !== undefined && until > now;
}

// ---------- errors ----------

/** The banner shows the message; an error about one of our frames also undoes what the page
 * did when it sent it. */
function errorFrame(state, data) {
  const next = { ...state, banner: { message: data.message || "Something went wrong." } };
  switch (data.ref) {
    case "offer.accept":
    case "offer.decline":
      // The error does not say which offer: every one may be answered again.
      return withOffers(next, (offers) =>
        offers.map((offer) => (offer.answered ? { ...offer, answered: false } : offer)),
      );
    case "presence.set":
      return { ...next, presencePending: null };
    case "work.close":
      return { ...next, items: next.items.map((item) => (item.closing ? { ...item, closing: false } : item)) };
    case "work.note":
      // Back as a note: a note restored as a reply would go to the customer.
      return restoreUnsent(next, state.lastNote, { noteMode: true });
    case "message.send":
      return restoreUnsent(next, state.lastSent, {});
    default:
      return next;
  }
}

/** The text that was not sent goes back into its conversation's reply box, unless the agent
 * has started writing something else there. */
function restoreUnsent(state, last, changes) {
  const item = last && state.items.find((candidate) => candidate.id === last.workItemId);
  if (!item || item.draft) return state;
  return updateItem(state, item.id, { draft: last.body, ...changes });
}

// ---------- moving between conversations ----------

const TAB_MOVES = {
  ArrowDown: (index) => index + 1,
  ArrowRight: (index) => index + 1,
  ArrowUp: (index) => index - 1,
  ArrowLeft: (index) => index - 1,
  Home: () => 0,
  End: (index, count) => count - 1,
};

/** The conversation a key pressed in the tab list moves to (wrapping round), or null. */
export function tabAfterKey(state, key) {
  const index = state.items.findIndex((item) => item.id === state.activeId);
  if (index < 0 || !(key in TAB_MOVES)) return null;
  const count = state.items.length;
  return state.items[(TAB_MOVES[key](index, count) + count) % count].id;
}

/** The next (step 1) or previous (-1) conversation from the active one, wrapping round;
 * from the first when none is active; null when there is none. */
export function tabAfterStep(state, step) {
  const count = state.items.length;
  if (!count) return null;
  const index = Math.max(0, state.items.findIndex((item) => item.id === state.activeId));
  return state.items[(index + step + count) % count].id;
}
