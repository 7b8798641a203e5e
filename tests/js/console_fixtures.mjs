// Frames as the server sends them on /ws/agent/ (docs/protocol.md), with what a test does not
// care about filled in. Not a test file itself (node --test runs *.test.mjs only).

export const T0 = Date.parse("2025-03-03T09:00:00Z");

export function agent(changes = {}) {
  return {
    id: 7,
    name: "Grace Hopper",
    status_id: 2,
    status_name: "Available",
    status_since: "2025-03-03T08:58:00Z",
    capacity: 6,
    used_units: 0,
    ...changes,
  };
}

export function offer(id, changes = {}) {
  return {
    offer_id: id,
    work_item_id: 100 + id,
    channel: "chat",
    queue: "Web chat",
    customer_name: `Customer ${id}`,
    preview: "Hello",
    waiting_since: "2025-03-03T08:59:30Z",
    expires_at: "2025-03-03T09:00:30Z",
    timeout_seconds: 30,
    remaining_seconds: 30,
    ...changes,
  };
}

export function message(id, workItemId, changes = {}) {
  return {
    id,
    interaction_id: workItemId + 1000,
    work_item_id: workItemId,
    sender: "customer",
    author_name: "Customer",
    body: `Message ${id}`,
    created_at: "2025-03-03T09:00:00Z",
    delivery: "",
    delivery_error: "",
    internal: false,
    attachments: [],
    ...changes,
  };
}

export function workItem(id, changes = {}) {
  return {
    work_item_id: id,
    interaction_id: id + 1000,
    channel: "chat",
    queue: "Web chat",
    customer_name: `Customer ${id}`,
    customer_email: `c${id}@example.com`,
    case_number: `C-${id}`,
    accepted_at: "2025-03-03T08:59:00Z",
    units: 1,
    messages: [],
    customer_id: id + 500,
    claimed_email: "",
    customer_address: "",
    subject: "",
    started_at: "2025-03-03T08:58:00Z",
    earlier: [],
    ...changes,
  };
}

export function snapshot(changes = {}) {
  return {
    agent: agent(),
    statuses: [
      { id: 2, name: "Available", channels: ["chat"] },
      { id: 3, name: "Break", channels: [] },
    ],
    decline_reasons: [{ id: 1, name: "Not my area" }],
    dispositions: [{ id: 4, name: "Resolved" }],
    canned_responses: [{ id: 5, title: "Greeting", body: "Hello {first_name}" }],
    transfer_targets: { queues: [{ id: 1, name: "Billing" }], agents: [], skills: [] },
    offers: [],
    work_items: [],
    ...changes,
  };
}

export function frame(type, data) {
  return { type, v: 1, data };
}

/** Frozen all the way down: a reducer that changed its input would throw (modules are strict). */
export function deepFreeze(value) {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
