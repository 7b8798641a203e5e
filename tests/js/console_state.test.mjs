// The agent console's reducer (static/channels_app/console/state.js): snapshot + events → state.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  TYPING_SHOWN_MS,
  activeItem,
  customerTyping,
  initialState,
  itemForMessage,
  offerLocked,
  offerSecondsLeft,
  oldestOpenOffer,
  reduce,
  tabAfterKey,
  tabAfterStep,
  wrapUpSecondsLeft,
} from "../../static/channels_app/console/state.js";
import { T0, agent, deepFreeze, frame, message, offer, snapshot, workItem } from "./console_fixtures.mjs";

/** Apply each action in turn at `now`; every input is frozen, so a mutation fails the test. */
function apply(state, actions, now = T0) {
  return actions.reduce((current, action) => reduce(deepFreeze(current), deepFreeze(action), now), state);
}

const ui = (type, data = {}) => ({ type: `ui.${type}`, data });

function withItems(ids, changes = {}) {
  const state = apply(initialState(), [frame("console.snapshot", snapshot({ work_items: ids.map((id) => workItem(id)) }))]);
  return changes.active === undefined ? state : apply(state, [ui("activate", { work_item_id: changes.active })]);
}

const ids = (state) => state.items.map((item) => item.id);
const item = (state, id) => state.items.find((candidate) => candidate.id === id);

describe("console.snapshot", () => {
  test("fills the console from the snapshot; the first conversation is active", () => {
    const data = snapshot({
      offers: [offer(1, { remaining_seconds: 12 })],
      work_items: [workItem(10, { messages: [message(1, 10)] }), workItem(11)],
    });
    const state = apply(initialState(), [frame("console.snapshot", data)]);
    assert.deepEqual(state.agent, data.agent);
    assert.deepEqual(state.statuses, data.statuses);
    assert.deepEqual(state.declineReasons, data.decline_reasons);
    assert.deepEqual(state.dispositions, data.dispositions);
    assert.deepEqual(state.canned, data.canned_responses);
    assert.deepEqual(state.targets, data.transfer_targets);
    assert.deepEqual(state.offers, [{ data: data.offers[0], receivedAt: T0, deadline: T0 + 12_000, answered: false }]);
    assert.deepEqual(ids(state), [10, 11]);
    assert.deepEqual(item(state, 10), {
      id: 10,
      data: data.work_items[0],
      messages: [message(1, 10)],
      unread: false,
      draft: "",
      noteMode: false,
      closing: false,
    });
    assert.equal(state.activeId, 10);
  });

  test("lists the snapshot leaves out are empty", () => {
    const state = apply(initialState(), [frame("console.snapshot", { agent: agent() })]);
    assert.deepEqual(
      [state.statuses, state.declineReasons, state.dispositions, state.canned, state.offers, state.items],
      [[], [], [], [], [], []],
    );
    assert.deepEqual(state.targets, { queues: [], agents: [], skills: [] });
    assert.equal(state.activeId, null);
  });

  test("a conversation's messages are kept once each", () => {
    const data = snapshot({ work_items: [workItem(10, { messages: [message(1, 10), message(1, 10), message(2, 10)] })] });
    const state = apply(initialState(), [frame("console.snapshot", data)]);
    assert.deepEqual(item(state, 10).messages.map((m) => m.id), [1, 2]);
  });

  test("after a reconnect the active conversation, its draft and note mode survive", () => {
    let state = withItems([10, 11, 12], { active: 11 });
    state = apply(state, [
      ui("draft", { work_item_id: 11, text: "Half a reply" }),
      ui("draft", { work_item_id: 12, text: "A note" }),
      ui("note-mode", { work_item_id: 12, on: true }),
    ]);
    const again = snapshot({ work_items: [workItem(12), workItem(11, { messages: [message(9, 11)] })] });
    state = apply(state, [frame("console.snapshot", again)]);
    assert.equal(state.activeId, 11);
    assert.deepEqual(ids(state), [12, 11]);
    assert.equal(item(state, 11).draft, "Half a reply");
    assert.equal(item(state, 12).draft, "A note");
    assert.equal(item(state, 12).noteMode, true);
    assert.equal(item(state, 11).noteMode, false);
    assert.deepEqual(item(state, 11).messages.map((m) => m.id), [9]);
  });

  test("when the active conversation is gone after a reconnect, the first one becomes active", () => {
    let state = withItems([10, 11], { active: 11 });
    state = apply(state, [frame("console.snapshot", snapshot({ work_items: [workItem(12), workItem(10)] }))]);
    assert.equal(state.activeId, 12);
    state = apply(state, [frame("console.snapshot", snapshot())]);
    assert.equal(state.activeId, null);
  });

  test("a draft of a conversation that is gone does not come back with it later", () => {
    let state = withItems([10]);
    state = apply(state, [ui("draft", { work_item_id: 10, text: "Lost" }), frame("console.snapshot", snapshot())]);
    state = apply(state, [frame("console.snapshot", snapshot({ work_items: [workItem(10)] }))]);
    assert.equal(item(state, 10).draft, "");
  });

  test("replaces the offers and forgets a presence change not yet confirmed", () => {
    let state = apply(initialState(), [
      frame("console.snapshot", snapshot({ offers: [offer(1), offer(2)] })),
      ui("presence", { status_id: 3 }),
    ]);
    state = apply(state, [frame("console.snapshot", snapshot({ offers: [offer(3)] }))], T0 + 5000);
    assert.deepEqual(state.offers.map((o) => o.data.offer_id), [3]);
    assert.equal(state.offers[0].receivedAt, T0 + 5000);
    assert.equal(state.presencePending, null);
  });

  test("keeps what the snapshot does not carry: banner, wrap-up, deliveries waiting for their message", () => {
    let state = apply(withItems([10]), [
      frame("error", { code: "conflict", message: "Already answered" }),
      frame("work.closed", { work_item_id: 10, wrap_up_until: "2025-03-03T09:01:00Z" }),
      frame("message.delivery", { id: 77, interaction_id: 1011, delivery: "sent", delivery_error: "" }),
    ]);
    state = apply(state, [frame("console.snapshot", snapshot({ work_items: [workItem(11)] }))]);
    assert.deepEqual(state.banner, { message: "Already answered" });
    assert.equal(state.wrapUpUntil, Date.parse("2025-03-03T09:01:00Z"));
    assert.deepEqual(Object.keys(state.pendingDeliveries), ["77"]);
  });

  test("snapshot then events equals the state they describe", () => {
    const state = apply(initialState(), [
      frame("console.snapshot", snapshot({ offers: [offer(1)], work_items: [workItem(10)] })),
      frame("agent.updated", agent({ used_units: 1 })),
      frame("offer.created", offer(2, { remaining_seconds: 20 })),
      frame("offer.closed", { offer_id: 1, work_item_id: 101, outcome: "accepted" }),
      frame("work.assigned", workItem(11, { messages: [message(1, 11)] })),
      frame("message.created", message(2, 10)),
      frame("message.created", message(3, 11, { sender: "agent", delivery: "pending" })),
      frame("message.delivery", { id: 3, interaction_id: 1011, delivery: "sent", delivery_error: "" }),
      frame("chat.typing", { interaction_id: 1010, work_item_id: 10, typing: true }),
    ]);
    const expected = {
      ...initialState(),
      connection: { status: "connecting", code: null },
      agent: agent({ used_units: 1 }),
      statuses: snapshot().statuses,
      declineReasons: snapshot().decline_reasons,
      dispositions: snapshot().dispositions,
      canned: snapshot().canned_responses,
      targets: snapshot().transfer_targets,
      offers: [{ data: offer(2, { remaining_seconds: 20 }), receivedAt: T0, deadline: T0 + 20_000, answered: false }],
      items: [
        { id: 10, data: workItem(10), messages: [message(2, 10)], unread: true, draft: "", noteMode: false, closing: false },
        {
          id: 11,
          data: workItem(11, { messages: [message(1, 11)] }),
          messages: [message(1, 11), message(3, 11, { sender: "agent", delivery: "sent" })],
          unread: false,
          draft: "",
          noteMode: false,
          closing: false,
        },
      ],
      activeId: 11,
      typing: { 10: T0 + TYPING_SHOWN_MS },
      announcement: { text: "New offer from Customer 2" },
    };
    assert.deepEqual(state, expected);
  });
});

describe("agent and presence", () => {
  test("agent.updated replaces the agent and settles a presence change", () => {
    let state = apply(initialState(), [frame("console.snapshot", snapshot()), ui("presence", { status_id: 3 })]);
    assert.equal(state.presencePending, 3);
    state = apply(state, [frame("agent.updated", agent({ status_id: 3, status_name: "Break" }))]);
    assert.equal(state.presencePending, null);
    assert.equal(state.agent.status_name, "Break");
  });

  test("a presence change that could not be sent, or that the server refused, is undone", () => {
    const state = apply(initialState(), [frame("console.snapshot", snapshot()), ui("presence", { status_id: 3 })]);
    assert.equal(apply(state, [ui("presence-unsent")]).presencePending, null);
    const refused = apply(state, [frame("error", { code: "not_found", message: "No such status", ref: "presence.set" })]);
    assert.equal(refused.presencePending, null);
    assert.deepEqual(refused.banner, { message: "No such status" });
  });

  test("the connection's status is kept for the top bar", () => {
    const state = apply(initialState(), [ui("connection", { status: "refused", code: 4401 })]);
    assert.deepEqual(state.connection, { status: "refused", code: 4401 });
    assert.deepEqual(apply(state, [ui("connection", { status: "connected" })]).connection, { status: "connected", code: null });
  });
});

describe("offers", () => {
  test("a new offer is added last, with its deadline from the time left at receipt, and announced", () => {
    let state = apply(initialState(), [frame("console.snapshot", snapshot({ offers: [offer(1)] }))]);
    state = apply(state, [frame("offer.created", offer(2, { remaining_seconds: 7 }))], T0 + 1000);
    assert.deepEqual(state.offers.map((o) => o.data.offer_id), [1, 2]);
    assert.equal(state.offers[1].receivedAt, T0 + 1000);
    assert.equal(state.offers[1].deadline, T0 + 8000);
    assert.deepEqual(state.announcement, { text: "New offer from Customer 2" });
  });

  test("an offer sent again replaces the one with its id, in its place", () => {
    let state = apply(initialState(), [frame("offer.created", offer(1)), frame("offer.created", offer(2))]);
    state = apply(state, [ui("answer", { offer_id: 1 }), frame("offer.created", offer(1, { preview: "Again" }))]);
    assert.deepEqual(state.offers.map((o) => [o.data.offer_id, o.data.preview, o.answered]), [
      [1, "Again", false],
      [2, "Hello", false],
    ]);
  });

  test("time left counts down by `now` and locks the offer at zero", () => {
    const [entry] = apply(initialState(), [frame("offer.created", offer(1, { remaining_seconds: 3 }))]).offers;
    assert.equal(offerSecondsLeft(entry, T0), 3);
    assert.equal(offerSecondsLeft(entry, T0 + 1), 3);
    assert.equal(offerSecondsLeft(entry, T0 + 2001), 1);
    assert.equal(offerLocked(entry, T0 + 2999), false);
    assert.equal(offerSecondsLeft(entry, T0 + 3000), 0);
    assert.equal(offerLocked(entry, T0 + 3000), true);
    assert.equal(offerSecondsLeft(entry, T0 + 60_000), 0);
  });

  test("an offer without time left (or with nonsense) is expired at once", () => {
    const state = apply(initialState(), [
      frame("offer.created", offer(1, { remaining_seconds: -4 })),
      frame("offer.created", offer(2, { remaining_seconds: null })),
    ]);
    assert.deepEqual(state.offers.map((o) => offerLocked(o, T0)), [true, true]);
  });

  test("answering locks that offer only; a frame that could not be sent unlocks it", () => {
    let state = apply(initialState(), [frame("offer.created", offer(1)), frame("offer.created", offer(2))]);
    state = apply(state, [ui("answer", { offer_id: 1 })]);
    assert.deepEqual(state.offers.map((o) => offerLocked(o, T0)), [true, false]);
    state = apply(state, [ui("answer-unsent", { offer_id: 1 })]);
    assert.deepEqual(state.offers.map((o) => offerLocked(o, T0)), [false, false]);
  });

  test("an error about an answer re-enables the answered offers (the error names none)", () => {
    for (const ref of ["offer.accept", "offer.decline"]) {
      let state = apply(initialState(), [frame("offer.created", offer(1)), frame("offer.created", offer(2))]);
      state = apply(state, [ui("answer", { offer_id: 1 }), ui("answer", { offer_id: 2 })]);
      state = apply(state, [frame("error", { code: "conflict", message: "Already answered", ref })]);
      assert.deepEqual(state.offers.map((o) => o.answered), [false, false], ref);
      assert.deepEqual(state.banner, { message: "Already answered" });
    }
  });

  test("an error about something else leaves answered offers locked", () => {
    let state = apply(initialState(), [frame("offer.created", offer(1)), ui("answer", { offer_id: 1 })]);
    state = apply(state, [frame("error", { code: "invalid_frame", message: "body: required", ref: "message.send" })]);
    assert.equal(state.offers[0].answered, true);
  });

  test("offer.closed removes the offer whatever the outcome", () => {
    let state = apply(initialState(), [frame("offer.created", offer(1)), frame("offer.created", offer(2))]);
    state = apply(state, [frame("offer.closed", { offer_id: 1, work_item_id: 101, outcome: "timed_out" })]);
    assert.deepEqual(state.offers.map((o) => o.data.offer_id), [2]);
    const same = apply(state, [frame("offer.closed", { offer_id: 9, work_item_id: 109, outcome: "cancelled" })]);
    assert.deepEqual(same.offers, state.offers);
  });

  test("Alt+A and Alt+D act on the oldest offer still open", () => {
    let state = apply(initialState(), [
      frame("offer.created", offer(1, { remaining_seconds: 2 })),
      frame("offer.created", offer(2)),
      frame("offer.created", offer(3)),
    ]);
    assert.equal(oldestOpenOffer(state, T0).data.offer_id, 1);
    assert.equal(oldestOpenOffer(state, T0 + 2000).data.offer_id, 2);
    state = apply(state, [ui("answer", { offer_id: 2 })]);
    assert.equal(oldestOpenOffer(state, T0 + 2000).data.offer_id, 3);
    state = apply(state, [ui("answer", { offer_id: 3 })]);
    assert.equal(oldestOpenOffer(state, T0 + 2000), null);
  });
});

describe("work items", () => {
  test("work.assigned adds a tab at the end and activates it", () => {
    let state = withItems([10]);
    state = apply(state, [frame("work.assigned", workItem(11, { messages: [message(1, 11)] }))]);
    assert.deepEqual(ids(state), [10, 11]);
    assert.equal(state.activeId, 11);
    assert.deepEqual(item(state, 11).messages.map((m) => m.id), [1]);
  });

  test("work.assigned for a tab we have updates it in place, keeps its draft and adds new messages once", () => {
    let state = withItems([10, 11]);
    state = apply(state, [
      frame("work.assigned", workItem(10, { messages: [message(1, 10)] })),
      ui("draft", { work_item_id: 10, text: "Draft" }),
      ui("activate", { work_item_id: 11 }),
      frame("message.created", message(2, 10)),
    ]);
    assert.equal(item(state, 10).unread, true);
    state = apply(state, [frame("work.assigned", workItem(10, { queue: "Billing", messages: [message(1, 10), message(3, 10)] }))]);
    assert.deepEqual(ids(state), [10, 11]);
    assert.equal(item(state, 10).data.queue, "Billing");
    assert.deepEqual(item(state, 10).messages.map((m) => m.id), [1, 2, 3]);
    assert.equal(item(state, 10).draft, "Draft");
    assert.equal(state.activeId, 10);
    assert.equal(item(state, 10).unread, false);
  });

  test("work.closed of the active tab activates the next one, or the one before at the end", () => {
    let state = withItems([10, 11, 12], { active: 11 });
    state = apply(state, [frame("work.closed", { work_item_id: 11, wrap_up_until: null })]);
    assert.deepEqual(ids(state), [10, 12]);
    assert.equal(state.activeId, 12);
    state = apply(state, [frame("work.closed", { work_item_id: 12, wrap_up_until: null })]);
    assert.equal(state.activeId, 10);
    state = apply(state, [frame("work.closed", { work_item_id: 10, wrap_up_until: null })]);
    assert.deepEqual(ids(state), []);
    assert.equal(state.activeId, null);
  });

  test("the neighbour that takes over is read: its unread marker goes", () => {
    let state = withItems([10, 11], { active: 10 });
    state = apply(state, [frame("message.created", message(1, 11))]);
    assert.equal(item(state, 11).unread, true);
    state = apply(state, [frame("work.closed", { work_item_id: 10, wrap_up_until: null })]);
    assert.equal(state.activeId, 11);
    assert.equal(item(state, 11).unread, false);
  });

  test("work.closed of another tab leaves the active one alone", () => {
    let state = withItems([10, 11, 12], { active: 12 });
    state = apply(state, [frame("work.closed", { work_item_id: 10, wrap_up_until: null })]);
    assert.deepEqual(ids(state), [11, 12]);
    assert.equal(state.activeId, 12);
  });

  test("work.closed forgets the customer's typing", () => {
    let state = withItems([10, 11]);
    state = apply(state, [
      frame("chat.typing", { interaction_id: 1010, work_item_id: 10, typing: true }),
      frame("chat.typing", { interaction_id: 1011, work_item_id: 11, typing: true }),
      frame("work.closed", { work_item_id: 10, wrap_up_until: null }),
    ]);
    assert.deepEqual(Object.keys(state.typing), ["11"]);
  });

  test("activating a tab clears its unread marker; an unknown id changes nothing", () => {
    let state = withItems([10, 11]);
    state = apply(state, [frame("message.created", message(1, 11))]);
    state = apply(state, [ui("activate", { work_item_id: 11 })]);
    assert.equal(state.activeId, 11);
    assert.equal(item(state, 11).unread, false);
    assert.equal(apply(state, [ui("activate", { work_item_id: 99 })]), state);
    assert.equal(activeItem(state).id, 11);
  });
});

describe("wrap-up", () => {
  const until = "2025-03-03T09:00:30Z";

  test("a close with wrap-up starts the countdown, counted by `now`", () => {
    const state = apply(withItems([10]), [frame("work.closed", { work_item_id: 10, wrap_up_until: until })]);
    assert.equal(state.wrapUpUntil, Date.parse(until));
    assert.equal(wrapUpSecondsLeft(state, T0), 30);
    assert.equal(wrapUpSecondsLeft(state, T0 + 29_001), 1);
    assert.equal(wrapUpSecondsLeft(state, T0 + 30_000), 0);
  });

  test("a transfer (no wrap-up) leaves a running countdown running", () => {
    let state = apply(withItems([10, 11]), [frame("work.closed", { work_item_id: 10, wrap_up_until: until })]);
    state = apply(state, [frame("work.closed", { work_item_id: 11, wrap_up_until: null })], T0 + 10_000);
    assert.equal(state.wrapUpUntil, Date.parse(until));
  });

  test("a transfer after the countdown ended clears it", () => {
    let state = apply(withItems([10, 11]), [frame("work.closed", { work_item_id: 10, wrap_up_until: until })]);
    state = apply(state, [frame("work.closed", { work_item_id: 11, wrap_up_until: null })], T0 + 30_000);
    assert.equal(state.wrapUpUntil, null);
    assert.equal(wrapUpSecondsLeft(state, T0), 0);
  });

  test("a newer close restarts it; an unknown item still counts", () => {
    let state = apply(withItems([10]), [frame("work.closed", { work_item_id: 10, wrap_up_until: until })]);
    state = apply(state, [frame("work.closed", { work_item_id: 99, wrap_up_until: "2025-03-03T09:00:05Z" })]);
    assert.equal(wrapUpSecondsLeft(state, T0), 5);
    state = apply(state, [frame("work.closed", { work_item_id: 99, wrap_up_until: "not a time" })]);
    assert.equal(state.wrapUpUntil, null);
  });
});

describe("message.created", () => {
  test("is appended to its work item, once", () => {
    let state = withItems([10, 11]);
    state = apply(state, [frame("message.created", message(1, 11)), frame("message.created", message(1, 11))]);
    assert.deepEqual(item(state, 11).messages.map((m) => m.id), [1]);
    assert.deepEqual(item(state, 10).messages, []);
  });

  test("falls back to the interaction when it names no work item of ours", () => {
    let state = withItems([10, 11]);
    state = apply(state, [frame("message.created", message(1, 99, { interaction_id: 1011 }))]);
    assert.deepEqual(item(state, 11).messages.map((m) => m.id), [1]);
    state = apply(state, [frame("message.created", message(2, null, { interaction_id: 1010 }))]);
    assert.deepEqual(item(state, 10).messages.map((m) => m.id), [2]);
    assert.equal(itemForMessage(state, message(3, 12)), null);
  });

  test("is ignored when nothing of ours matches", () => {
    const state = withItems([10]);
    assert.equal(apply(state, [frame("message.created", message(1, 99))]), state);
  });

  test("a customer message on a tab that is not active sets its unread marker", () => {
    let state = withItems([10, 11], { active: 10 });
    state = apply(state, [frame("message.created", message(1, 11))]);
    assert.equal(item(state, 11).unread, true);
  });

  test("no unread marker on the active tab, nor for an agent's message", () => {
    let state = withItems([10, 11], { active: 10 });
    state = apply(state, [
      frame("message.created", message(1, 10)),
      frame("message.created", message(2, 11, { sender: "agent", internal: true })),
      frame("message.created", message(3, 11, { sender: "agent" })),
    ]);
    assert.equal(item(state, 10).unread, false);
    assert.equal(item(state, 11).unread, false);
  });

  test("system and bot lines count as news too (anything not from an agent)", () => {
    for (const sender of ["system", "bot"]) {
      const state = apply(withItems([10, 11], { active: 10 }), [frame("message.created", message(1, 11, { sender }))]);
      assert.equal(item(state, 11).unread, true, sender);
    }
  });

  test("the marker stays until the tab is activated", () => {
    let state = withItems([10, 11], { active: 10 });
    state = apply(state, [frame("message.created", message(1, 11)), frame("message.created", message(2, 11, { sender: "agent" }))]);
    assert.equal(item(state, 11).unread, true);
  });
});

describe("message.delivery", () => {
  const delivered = (id, delivery, error = "") => frame("message.delivery", { id, interaction_id: 1010, delivery, delivery_error: error });

  test("updates the message it names", () => {
    let state = withItems([10]);
    state = apply(state, [frame("message.created", message(1, 10, { sender: "agent", delivery: "pending" })), delivered(1, "sent")]);
    assert.equal(item(state, 10).messages[0].delivery, "sent");
    assert.deepEqual(state.pendingDeliveries, {});
    assert.equal(state.announcement, null);
  });

  test("a failure is announced, with the provider's reason on the message", () => {
    let state = withItems([10]);
    state = apply(state, [frame("message.created", message(1, 10, { sender: "agent", delivery: "pending" }))]);
    state = apply(state, [delivered(1, "failed", "Unsubscribed recipient")]);
    assert.deepEqual(item(state, 10).messages[0], message(1, 10, { sender: "agent", delivery: "failed", delivery_error: "Unsubscribed recipient" }));
    assert.deepEqual(state.announcement, { text: "A reply could not be delivered" });
  });

  test("one that arrives before its message waits for it, and is applied when it comes", () => {
    let state = withItems([10]);
    state = apply(state, [delivered(1, "failed", "Refused")]);
    assert.deepEqual(state.pendingDeliveries, { 1: { id: 1, interaction_id: 1010, delivery: "failed", delivery_error: "Refused" } });
    state = apply(state, [frame("message.created", message(1, 10, { sender: "agent", delivery: "pending" }))]);
    assert.equal(item(state, 10).messages[0].delivery, "failed");
    assert.equal(item(state, 10).messages[0].delivery_error, "Refused");
    assert.deepEqual(state.pendingDeliveries, {});
  });

  test("a message of another interaction with that id is not it", () => {
    let state = withItems([10, 11]);
    state = apply(state, [frame("message.created", message(1, 11, { delivery: "pending" })), delivered(1, "sent")]);
    assert.equal(item(state, 11).messages[0].delivery, "pending");
    assert.deepEqual(Object.keys(state.pendingDeliveries), ["1"]);
  });
});

describe("chat.typing", () => {
  test("the customer counts as typing for a while, unless they say they stopped", () => {
    let state = withItems([10]);
    state = apply(state, [frame("chat.typing", { interaction_id: 1010, work_item_id: 10, typing: true })]);
    assert.equal(customerTyping(state, 10, T0 + TYPING_SHOWN_MS - 1), true);
    assert.equal(customerTyping(state, 10, T0 + TYPING_SHOWN_MS), false);
    assert.equal(customerTyping(state, 11, T0), false);
    const again = apply(state, [frame("chat.typing", { interaction_id: 1010, work_item_id: 10, typing: true })], T0 + 5000);
    assert.equal(customerTyping(again, 10, T0 + 10_000), true);
    const stopped = apply(state, [frame("chat.typing", { interaction_id: 1010, work_item_id: 10, typing: false })]);
    assert.equal(customerTyping(stopped, 10, T0), false);
    assert.deepEqual(stopped.typing, {});
  });
});

describe("drafts, notes and sending", () => {
  test("a draft is kept per conversation", () => {
    const state = apply(withItems([10, 11]), [ui("draft", { work_item_id: 11, text: "Hi" })]);
    assert.deepEqual(state.items.map((i) => i.draft), ["", "Hi"]);
    assert.equal(apply(state, [ui("draft", { work_item_id: 99, text: "x" })]), state);
  });

  test("drafts kept in the browser fill only conversations without one", () => {
    let state = apply(withItems([10, 11, 12]), [ui("draft", { work_item_id: 10, text: "In memory" })]);
    state = apply(state, [
      ui("drafts-restored", { drafts: { 10: "Stored", 11: "Stored too", 99: "Not ours" }, noteModes: { 11: true } }),
    ]);
    assert.deepEqual(state.items.map((i) => [i.id, i.draft, i.noteMode]), [
      [10, "In memory", false],
      [11, "Stored too", true],
      [12, "", false],
    ]);
  });

  test("a sent reply empties the box and is remembered for an error", () => {
    const state = apply(withItems([10]), [
      ui("draft", { work_item_id: 10, text: "Hello" }),
      ui("reply-sent", { work_item_id: 10, body: "Hello" }),
    ]);
    assert.equal(item(state, 10).draft, "");
    assert.deepEqual(state.lastSent, { workItemId: 10, body: "Hello" });
  });

  test("an error about message.send puts the reply back, unless the box has new text", () => {
    const sent = apply(withItems([10]), [ui("reply-sent", { work_item_id: 10, body: "Hello" })]);
    const error = frame("error", { code: "invalid_frame", message: "body: too long", ref: "message.send" });
    assert.equal(item(apply(sent, [error]), 10).draft, "Hello");
    const busy = apply(sent, [ui("draft", { work_item_id: 10, text: "Next" }), error]);
    assert.equal(item(busy, 10).draft, "Next");
  });

  test("the reply goes back to its own conversation even when another is active", () => {
    const state = apply(withItems([10, 11], { active: 10 }), [
      ui("reply-sent", { work_item_id: 10, body: "Hello" }),
      ui("activate", { work_item_id: 11 }),
      frame("error", { code: "conflict", message: "Closed", ref: "message.send" }),
    ]);
    assert.equal(item(state, 10).draft, "Hello");
    assert.equal(item(state, 11).draft, "");
  });

  test("a sent note leaves note mode; an error puts it back as a note, never as a reply", () => {
    let state = apply(withItems([10]), [
      ui("note-mode", { work_item_id: 10, on: true }),
      ui("draft", { work_item_id: 10, text: "Invoice" }),
      ui("note-sent", { work_item_id: 10, body: "Invoice" }),
    ]);
    assert.deepEqual([item(state, 10).draft, item(state, 10).noteMode], ["", false]);
    assert.deepEqual(state.lastNote, { workItemId: 10, body: "Invoice" });
    state = apply(state, [frame("error", { code: "invalid_frame", message: "body: required", ref: "work.note" })]);
    assert.deepEqual([item(state, 10).draft, item(state, 10).noteMode], ["Invoice", true]);
  });

  test("an error with nothing sent before restores nothing", () => {
    const state = withItems([10]);
    for (const ref of ["message.send", "work.note"]) {
      const next = apply(state, [frame("error", { code: "invalid_frame", message: "x", ref })]);
      assert.deepEqual(next.items, state.items, ref);
    }
  });

  test("files sent through the API empty the box", () => {
    const state = apply(withItems([10]), [ui("draft", { work_item_id: 10, text: "Label" }), ui("files-sent", { work_item_id: 10 })]);
    assert.equal(item(state, 10).draft, "");
    assert.equal(state.lastSent, null);
  });

  test("Close is locked while the close is on its way, and unlocked when it could not be sent or failed", () => {
    let state = apply(withItems([10]), [ui("closing", { work_item_id: 10 })]);
    assert.equal(item(state, 10).closing, true);
    assert.equal(item(apply(state, [ui("close-unsent", { work_item_id: 10 })]), 10).closing, false);
    state = apply(state, [frame("error", { code: "invalid_frame", message: "disposition_id: required", ref: "work.close" })]);
    assert.equal(item(state, 10).closing, false);
    assert.deepEqual(state.banner, { message: "disposition_id: required" });
  });
});

describe("errors and the banner", () => {
  test("an error shows its message, or a general one", () => {
    assert.deepEqual(apply(initialState(), [frame("error", { code: "internal_error", message: "Try again" })]).banner, { message: "Try again" });
    assert.deepEqual(apply(initialState(), [frame("error", { code: "internal_error" })]).banner, { message: "Something went wrong." });
  });

  test("the page's own errors use the banner, and Dismiss empties it", () => {
    let state = apply(initialState(), [ui("error", { message: "Not connected — please wait while we reconnect." })]);
    assert.deepEqual(state.banner, { message: "Not connected — please wait while we reconnect." });
    state = apply(state, [ui("dismiss")]);
    assert.equal(state.banner, null);
  });
});

describe("moving between tabs", () => {
  test("arrow keys move and wrap round; Home and End go to the ends", () => {
    const state = withItems([10, 11, 12], { active: 10 });
    assert.equal(tabAfterKey(state, "ArrowDown"), 11);
    assert.equal(tabAfterKey(state, "ArrowRight"), 11);
    assert.equal(tabAfterKey(state, "ArrowUp"), 12);
    assert.equal(tabAfterKey(state, "ArrowLeft"), 12);
    assert.equal(tabAfterKey(state, "Home"), 10);
    assert.equal(tabAfterKey(state, "End"), 12);
    assert.equal(tabAfterKey(state, "Enter"), null);
    assert.equal(tabAfterKey(withItems([]), "ArrowDown"), null);
  });

  test("Alt+N and Alt+P step round the tabs", () => {
    const state = withItems([10, 11, 12], { active: 12 });
    assert.equal(tabAfterStep(state, 1), 10);
    assert.equal(tabAfterStep(state, -1), 11);
    assert.equal(tabAfterStep(withItems([]), 1), null);
  });
});

describe("the reducer itself", () => {
  test("an unknown frame changes nothing", () => {
    const state = withItems([10]);
    assert.equal(reduce(state, frame("dashboard.snapshot", {}), T0), state);
  });

  test("what an action does not touch stays the same object", () => {
    const state = apply(withItems([10, 11]), [frame("offer.created", offer(1))]);
    const next = apply(state, [frame("message.created", message(1, 11))]);
    assert.equal(next.offers, state.offers);
    assert.equal(next.items[0], state.items[0]);
    assert.notEqual(next.items[1], state.items[1]);
  });

  test("a frame without data is taken as empty", () => {
    assert.deepEqual(reduce(initialState(), { type: "error" }, T0).banner, { message: "Something went wrong." });
  });
});
