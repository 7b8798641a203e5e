// The console's pure helpers: SMS length, placeholders, drafts kept in the browser, outgoing
// frames, "typing" for the customer, and the words the panels show.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { draftKey, draftStore, noteModeKey, staleKeys } from "../../static/channels_app/console/drafts.js";
import {
  capacityFull,
  capacityLabel,
  earlierSummary,
  offerCountdownLabel,
  statusTimeLabel,
  typingLabel,
  wrapUpLabel,
} from "../../static/channels_app/console/labels.js";
import {
  NOT_TYPING,
  TYPING_REPEAT_MS,
  callFrame,
  closeFrame,
  declineFrame,
  transferFrame,
  typingAfterInput,
  typingAfterStop,
} from "../../static/channels_app/console/outgoing.js";
import { fillPlaceholders, withCannedText } from "../../static/channels_app/console/placeholders.js";
import { smsSegments } from "../../static/channels_app/console/sms.js";
import { T0, agent, workItem } from "./console_fixtures.mjs";

describe("smsSegments", () => {
  test("an empty reply is no SMS", () => {
    assert.equal(smsSegments(""), "0 characters · 0 SMS");
  });

  test("GSM-7 text: 160 characters in one SMS, then parts of 153", () => {
    assert.equal(smsSegments("Hello from the shop"), "19 characters · 1 SMS");
    assert.equal(smsSegments("a".repeat(160)), "160 characters · 1 SMS");
    assert.equal(smsSegments("a".repeat(161)), "161 characters · 2 SMS");
    assert.equal(smsSegments("a".repeat(306)), "306 characters · 2 SMS");
    assert.equal(smsSegments("a".repeat(307)), "307 characters · 3 SMS");
  });

  test("the GSM extension (€, brackets, …) costs two characters each", () => {
    assert.equal(smsSegments("€5 [a]"), "9 characters · 1 SMS");
    assert.equal(smsSegments("{".repeat(80)), "160 characters · 1 SMS");
    assert.equal(smsSegments("{".repeat(81)), "162 characters · 2 SMS");
  });

  test("accents in the GSM set stay GSM; anything else makes it Unicode: 70, then parts of 67", () => {
    assert.equal(smsSegments("Café à Zürich"), "13 characters · 1 SMS");
    assert.equal(smsSegments("ça"), "2 characters · 1 SMS (Unicode)");
    assert.equal(smsSegments("ç".repeat(70)), "70 characters · 1 SMS (Unicode)");
    assert.equal(smsSegments("ç".repeat(71)), "71 characters · 2 SMS (Unicode)");
    assert.equal(smsSegments("ç".repeat(135)), "135 characters · 3 SMS (Unicode)");
  });

  test("an emoji counts as one character, and an extension character as one in Unicode", () => {
    assert.equal(smsSegments("Hi 👋"), "4 characters · 1 SMS (Unicode)");
    assert.equal(smsSegments("€ 👋"), "3 characters · 1 SMS (Unicode)");
  });

  test("newlines are GSM characters", () => {
    assert.equal(smsSegments("a\nb\r"), "4 characters · 1 SMS");
  });
});

describe("fillPlaceholders", () => {
  const data = workItem(10, { customer_name: "Dora  Day", case_number: "C-42" });

  test("fills every placeholder, each time it appears", () => {
    assert.equal(
      fillPlaceholders("Hello {first_name} ({customer_name}), case {case_number}. {agent_name}. Bye {first_name}", data, "Grace Hopper"),
      "Hello Dora (Dora  Day), case C-42. Grace Hopper. Bye Dora",
    );
  });

  test("a missing value is empty; other braces stay as they are", () => {
    const nameless = workItem(10, { customer_name: "", case_number: "" });
    assert.equal(fillPlaceholders("[{first_name}|{customer_name}|{case_number}|{agent_name}]", nameless, null), "[|||]");
    assert.equal(fillPlaceholders("{unknown} {first_name", data, "A"), "{unknown} {first_name");
  });

  test("a canned text goes on a line of its own after a draft", () => {
    assert.equal(withCannedText("", "Hello"), "Hello");
    assert.equal(withCannedText("Hi", "Hello"), "Hi\nHello");
  });
});

/** localStorage's interface over a Map. */
function fakeStorage(entries = {}) {
  const map = new Map(Object.entries(entries));
  return {
    map,
    get length() {
      return map.size;
    },
    key: (index) => [...map.keys()][index] ?? null,
    getItem: (key) => (map.has(key) ? map.get(key) : null),
    setItem: (key, value) => map.set(key, String(value)),
    removeItem: (key) => map.delete(key),
  };
}

describe("drafts kept in the browser", () => {
  test("keys are per agent and work item; an unknown agent is '?'", () => {
    assert.equal(draftKey(7, 10), "cc-console-draft:7:10");
    assert.equal(noteModeKey(7, 10), "cc-console-note-mode:7:10");
    assert.equal(draftKey(null, 10), "cc-console-draft:?:10");
    assert.equal(noteModeKey(undefined, 10), "cc-console-note-mode:?:10");
  });

  test("stale keys: this agent's drafts and note modes of items no longer held", () => {
    const keys = [
      "cc-console-draft:7:10",
      "cc-console-draft:7:11",
      "cc-console-note-mode:7:12",
      "cc-console-draft:8:12",
      "cc-console-alerts",
      "cc-console-draft:7:10x",
    ];
    assert.deepEqual(staleKeys(keys, 7, [10]), ["cc-console-draft:7:11", "cc-console-note-mode:7:12", "cc-console-draft:7:10x"]);
  });

  test("a draft and its note mode are kept, read back and forgotten", () => {
    const storage = fakeStorage();
    const store = draftStore(() => storage, () => 7);
    store.keepDraft(10, "Half a reply");
    store.keepNoteMode(10, true);
    store.keepDraft(11, "Other");
    assert.deepEqual(store.saved([10, 11, 12]), { drafts: { 10: "Half a reply", 11: "Other" }, noteModes: { 10: true } });
    store.keepDraft(11, "");
    store.forget(10);
    assert.deepEqual([...storage.map.keys()], []);
  });

  test("drafts of conversations no longer held are dropped, others' are not", () => {
    const storage = fakeStorage({
      "cc-console-draft:7:10": "Held",
      "cc-console-draft:7:11": "Gone",
      "cc-console-note-mode:7:11": "1",
      "cc-console-draft:8:11": "Another agent's",
    });
    draftStore(() => storage, () => 7).dropStale([10]);
    assert.deepEqual([...storage.map.keys()], ["cc-console-draft:7:10", "cc-console-draft:8:11"]);
    draftStore(() => storage, () => null).dropStale([]);
    assert.equal(storage.map.size, 2);
  });

  test("storage that is blocked or full costs nothing but the keeping", () => {
    const blocked = draftStore(
      () => {
        throw new Error("SecurityError");
      },
      () => 7,
    );
    assert.doesNotThrow(() => {
      blocked.keepDraft(10, "x");
      blocked.keepNoteMode(10, true);
      blocked.forget(10);
      blocked.dropStale([]);
    });
    assert.deepEqual(blocked.saved([10]), { drafts: {}, noteModes: {} });
    const full = fakeStorage();
    full.setItem = () => {
      throw new Error("QuotaExceededError");
    };
    assert.doesNotThrow(() => draftStore(() => full, () => 7).keepDraft(10, "x"));
  });
});

describe("outgoing frames", () => {
  test("a decline carries the reason only when one is chosen", () => {
    assert.deepEqual(declineFrame(3, ""), { offer_id: 3 });
    assert.deepEqual(declineFrame(3, "2"), { offer_id: 3, reason_id: 2 });
  });

  test("a close needs a disposition when any are configured", () => {
    assert.deepEqual(closeFrame(10, "", true), { error: "Choose how the conversation ended before closing it." });
    assert.deepEqual(closeFrame(10, "4", true), { frame: { work_item_id: 10, disposition_id: 4 } });
    assert.deepEqual(closeFrame(10, "", false), { frame: { work_item_id: 10 } });
  });

  test("a transfer names a queue, an agent or a skill, with the note trimmed", () => {
    assert.deepEqual(transferFrame(10, "queue:1", " Invoice question "), {
      frame: { work_item_id: 10, queue_id: 1, note: "Invoice question" },
    });
    assert.deepEqual(transferFrame(10, "agent:7", ""), { frame: { work_item_id: 10, agent_id: 7, note: "" } });
    assert.deepEqual(transferFrame(10, "skill:2", ""), { frame: { work_item_id: 10, skill_id: 2, note: "" } });
    assert.deepEqual(transferFrame(10, "", "x"), { error: "Choose where to transfer the conversation." });
    assert.deepEqual(transferFrame(10, "team:1", "x"), { error: "Choose where to transfer the conversation." });
  });

  test("a call carries the number as typed, trimmed", () => {
    assert.deepEqual(callFrame(10, " +1 415 555 0142 "), { work_item_id: 10, phone: "+1 415 555 0142" });
  });
});

describe("telling the customer the agent types", () => {
  test("the first keystroke says typing; more within the repeat time say nothing", () => {
    let step = typingAfterInput(NOT_TYPING, 10, "H", T0);
    assert.deepEqual(step, { own: { workItemId: 10, sentAt: T0 }, typing: true });
    step = typingAfterInput(step.own, 10, "He", T0 + TYPING_REPEAT_MS - 1);
    assert.equal(step.typing, null);
    step = typingAfterInput(step.own, 10, "Hel", T0 + TYPING_REPEAT_MS);
    assert.deepEqual(step, { own: { workItemId: 10, sentAt: T0 + TYPING_REPEAT_MS }, typing: true });
  });

  test("typing in another conversation says so at once", () => {
    const first = typingAfterInput(NOT_TYPING, 10, "H", T0);
    assert.deepEqual(typingAfterInput(first.own, 11, "H", T0 + 1).typing, true);
  });

  test("emptying the box or stopping says stopped, once, and only where we said typing", () => {
    const typing = typingAfterInput(NOT_TYPING, 10, "H", T0).own;
    assert.deepEqual(typingAfterInput(typing, 10, "   ", T0 + 1), { own: NOT_TYPING, typing: false });
    assert.deepEqual(typingAfterStop(typing, 10), { own: NOT_TYPING, typing: false });
    assert.deepEqual(typingAfterStop(typing, 11), { own: typing, typing: null });
    assert.deepEqual(typingAfterStop(NOT_TYPING, 10), { own: NOT_TYPING, typing: null });
  });
});

describe("labels", () => {
  test("time in status, or the status alone when its start is unknown", () => {
    assert.equal(statusTimeLabel(agent(), T0), "Available for 2:00");
    assert.equal(statusTimeLabel(agent({ status_since: null }), T0), "Available");
    assert.equal(statusTimeLabel(agent({ status_id: null, status_name: "", status_since: null }), T0), "Offline");
  });

  test("capacity, and whether it is full", () => {
    assert.equal(capacityLabel(agent({ used_units: 2 })), "Capacity: 2/6");
    assert.equal(capacityFull(agent({ used_units: 5 })), false);
    assert.equal(capacityFull(agent({ used_units: 6 })), true);
  });

  test("countdowns and summaries", () => {
    assert.equal(offerCountdownLabel(12), "Expires in 12s");
    assert.equal(offerCountdownLabel(0), "Expired");
    assert.equal(wrapUpLabel(75), "Wrap-up: 1:15 left before new work");
    assert.equal(earlierSummary(1), "Earlier in this case (1 conversation)");
    assert.equal(earlierSummary(3), "Earlier in this case (3 conversations)");
    assert.equal(typingLabel("Dora Day"), "Dora Day is typing…");
  });
});
