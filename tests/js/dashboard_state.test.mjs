// The supervisor dashboard's reducer and selectors (static/supervisor/dashboard/state.js).
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  OFFLINE,
  RENOTIFY_AFTER_MS,
  PAGE_SIZE,
  ageAt,
  botResolvedLabel,
  filterOptions,
  initialState,
  isOffline,
  longestWaitAt,
  pageLabel,
  pageMoves,
  raisedPriority,
  reassignBody,
  reassignTargets,
  reduce,
  serviceLevel,
  viewRequest,
} from "../../static/supervisor/dashboard/state.js";
import { deepFreeze } from "./console_fixtures.mjs";

const T0 = Date.parse("2025-03-03T09:00:00Z");

function agent(id, changes = {}) {
  return {
    id,
    name: `Agent ${id}`,
    team_id: 1,
    queue_ids: [1],
    skill_ids: [],
    status_id: 2,
    status_name: "Available",
    status_since: "2025-03-03T08:55:00Z",
    capacity: 6,
    used_units: 0,
    handled_today: 0,
    declined_today: 0,
    missed_today: 0,
    items: [],
    ...changes,
  };
}

function dashboard(changes = {}) {
  return {
    generated_at: "2025-03-03T09:00:00Z",
    queues: [
      { id: 1, name: "Web chat", waiting: 0, longest_wait_seconds: 0 },
      { id: 2, name: "Billing", waiting: 0, longest_wait_seconds: 0 },
    ],
    bot_resolved_today: 0,
    agents: [
      agent(1),
      agent(2, { team_id: 2, queue_ids: [1, 2], skill_ids: [5], status_id: 3, status_name: "Break" }),
      agent(3, { status_id: null, status_name: "", status_since: null }),
      agent(4, { team_id: 2, status_id: 9, status_name: "Offline" }),
    ],
    waiting: [],
    skills_backlog: [],
    alerts: [],
    statuses: [
      { id: 2, name: "Available", open_for_work: true },
      { id: 3, name: "Break", open_for_work: false },
      { id: 9, name: "Offline", open_for_work: false },
    ],
    teams: [
      { id: 1, name: "Team North" },
      { id: 2, name: "Team South" },
    ],
    skills: [{ id: 5, name: "French" }],
    ...changes,
  };
}

const snapshotFrame = (data) => ({ type: "dashboard.snapshot", v: 1, data });
const filter = (name, value) => ({ type: "ui.filter", data: { name, value } });

function apply(state, actions, now = T0) {
  return actions.reduce((current, action) => reduce(deepFreeze(current), deepFreeze(action), now), state);
}

const deltaFrame = (data) => ({
  type: "dashboard.delta",
  v: 1,
  data: { generated_at: "2025-03-03T09:00:01Z", queues: [], agents: [], agents_removed: [], agents_total: 4, waiting: [], waiting_removed: [], ...data },
});
const view = (changes = {}) => ({ offset: 0, limit: 50, search: "", team_id: null, status_id: null, offline: false, skill_id: null, ...changes });
const ids = (rows, key = "id") => rows.map((row) => row[key]);
const start = () => apply(initialState(), [snapshotFrame(dashboard({ agents_total: 4, view: view() }))]);

describe("dashboard.snapshot", () => {
  test("is kept with the time it came and the server's clock skew", () => {
    const data = dashboard({ generated_at: "2025-03-03T09:00:02Z" });
    const state = apply(initialState(), [snapshotFrame(data)]);
    assert.equal(state.snapshot, data);
    assert.equal(state.receivedAt, T0);
    assert.equal(state.skewMs, 2000);
  });

  test("a snapshot without a readable time has no skew", () => {
    assert.equal(apply(initialState(), [snapshotFrame(dashboard({ generated_at: "soon" }))]).skewMs, 0);
  });

  test("each snapshot replaces the last one whole", () => {
    const state = apply(initialState(), [snapshotFrame(dashboard()), snapshotFrame(dashboard({ queues: [] }))], T0 + 5000);
    assert.deepEqual(state.snapshot.queues, []);
    assert.equal(state.receivedAt, T0 + 5000);
  });

  test("an unknown frame changes nothing", () => {
    const state = apply(initialState(), [snapshotFrame(dashboard())]);
    assert.equal(reduce(state, { type: "console.snapshot", data: {} }, T0), state);
  });
});

describe("dashboard.delta", () => {
  const waitingRow = (id, priority, enqueued) => ({ work_item_id: id, priority, enqueued_at: enqueued, customer_name: `C${id}` });

  test("replaces the changed agents' rows, drops those that left and keeps the rest", () => {
    const state = apply(start(), [
      deltaFrame({ agents: [agent(2, { status_name: "Lunch" })], agents_removed: [3], agents_total: 3 }),
    ]);
    assert.deepEqual(ids(state.snapshot.agents), [1, 2, 4]);
    assert.equal(state.snapshot.agents[1].status_name, "Lunch");
    assert.equal(state.snapshot.agents_total, 3);
  });

  test("an agent that entered the page takes its place by name", () => {
    const state = apply(start(), [deltaFrame({ agents: [agent(7, { name: "Agent 15" })] })]);
    assert.deepEqual(ids(state.snapshot.agents), [1, 7, 2, 3, 4]);
  });

  test("an offered item shows in its agent's row", () => {
    const offered = { work_item_id: 40, channel: "chat", customer_name: "Rosa", state: "offered", since: "2025-03-03T09:00:00Z" };
    const state = apply(start(), [deltaFrame({ agents: [agent(1, { items: [offered], used_units: 2 })] })]);
    assert.deepEqual(state.snapshot.agents[0].items.map((item) => item.work_item_id), [40]);
  });

  test("merges queue rows by id and the waiting list in serving order", () => {
    let state = apply(start(), [
      deltaFrame({
        queues: [{ id: 2, name: "Billing", waiting: 3, longest_wait_seconds: 12 }],
        waiting: [waitingRow(11, 0, "2025-03-03T08:58:00Z"), waitingRow(12, 5, "2025-03-03T08:59:00Z")],
      }),
    ]);
    assert.equal(state.snapshot.queues.find((queue) => queue.id === 2).waiting, 3);
    assert.equal(state.snapshot.queues.length, 2);
    assert.deepEqual(ids(state.snapshot.waiting, "work_item_id"), [12, 11]);
    state = apply(state, [deltaFrame({ waiting: [waitingRow(13, 0, "2025-03-03T08:57:00Z")], waiting_removed: [12] })]);
    assert.deepEqual(ids(state.snapshot.waiting, "work_item_id"), [13, 11]);
  });

  test("alerts, skills backlog and the bot count change only when the delta carries them", () => {
    const alert = { id: "wait:1", kind: "long_wait", text: "Long wait" };
    let state = apply(start(), [deltaFrame({ alerts: [alert], bot_resolved_today: 4 })], T0 + 1000);
    assert.deepEqual(state.freshAlerts, [alert]);
    assert.equal(state.snapshot.bot_resolved_today, 4);
    state = apply(state, [deltaFrame({})], T0 + 2000);
    assert.deepEqual(state.snapshot.alerts, [alert]);
    assert.deepEqual(state.freshAlerts, []);
    assert.equal(state.snapshot.bot_resolved_today, 4);
    state = apply(state, [deltaFrame({ alerts: [], skills_backlog: [{ skill: "French", waiting: 1, available_agents: 0 }] })]);
    assert.deepEqual(state.snapshot.alerts, []);
    assert.equal(state.snapshot.skills_backlog.length, 1);
  });

  test("a queue row left out of a delta keeps its wait growing from when it came", () => {
    const queues = [{ id: 1, name: "Web chat", waiting: 1, longest_wait_seconds: 10 }];
    let state = apply(initialState(), [snapshotFrame(dashboard({ queues, view: view() }))], T0);
    state = apply(state, [deltaFrame({})], T0 + 4000);
    assert.equal(longestWaitAt(state, state.snapshot.queues[0])(T0 + 5000), 15);
  });

  test("a delta before any snapshot is ignored", () => {
    const state = initialState();
    assert.equal(reduce(state, deltaFrame({}), T0), state);
  });
});

describe("views: filters, search and pages on the server", () => {
  test("the default view asks for the first page with no filter", () => {
    assert.deepEqual(viewRequest(initialState()), view({ limit: PAGE_SIZE }));
  });

  test("filters and a search become the view's fields and go back to the first page", () => {
    let state = apply(start(), [{ type: "ui.page", data: { step: 1 } }]);
    state = apply(state, [filter("team", "2"), filter("skill", "5"), filter("status", "3"), filter("search", "  ada ")]);
    assert.deepEqual(viewRequest(state), view({ team_id: 2, skill_id: 5, status_id: 3, search: "ada" }));
    assert.deepEqual(viewRequest(apply(state, [filter("status", OFFLINE)])), view({ team_id: 2, skill_id: 5, offline: true, search: "ada" }));
  });

  test("an unknown filter name is ignored", () => {
    const state = start();
    assert.equal(reduce(state, filter("colour", "red"), T0), state);
  });

  test("the snapshot's view is the one in force", () => {
    const state = apply(initialState(), [snapshotFrame(dashboard({ view: view({ offset: 50, team_id: 2, offline: true, search: "x" }) }))]);
    assert.deepEqual(state.filters, { team: "2", skill: "", status: OFFLINE, search: "x" });
    assert.equal(state.offset, 50);
  });

  test("pages move by fifty within the agents there are", () => {
    const big = apply(initialState(), [snapshotFrame(dashboard({ agents_total: 120, view: view() }))]);
    const second = apply(big, [{ type: "ui.page", data: { step: 1 } }]);
    assert.equal(viewRequest(second).offset, 50);
    const third = apply(second, [{ type: "ui.page", data: { step: 1 } }]);
    assert.equal(apply(third, [{ type: "ui.page", data: { step: 1 } }]), third);
    assert.equal(apply(big, [{ type: "ui.page", data: { step: -1 } }]), big);
    assert.deepEqual(pageMoves(big), { previous: false, next: true });
  });

  test("the label says which agents show of how many", () => {
    const agents = Array.from({ length: 50 }, (_, n) => agent(n + 1));
    const page = (offset, total, rows = agents) =>
      apply(initialState(), [snapshotFrame(dashboard({ agents: rows, agents_total: total, view: view({ offset }) }))]);
    assert.equal(pageLabel(page(50, 2000)), "51–100 of 2,000 agents");
    assert.equal(pageLabel(page(0, 4, agents.slice(0, 4))), "4 agents");
    assert.equal(pageLabel(page(0, 1, agents.slice(0, 1))), "1 agent");
    assert.equal(pageLabel(page(0, 0, [])), "No agents.");
    const filtered = apply(initialState(), [snapshotFrame(dashboard({ agents: [], agents_total: 0, view: view({ team_id: 2 }) }))]);
    assert.equal(pageLabel(filtered), "No agent matches the filters.");
  });

  test("options: Offline once, first; a status named Offline is not listed twice", () => {
    assert.deepEqual(filterOptions(dashboard()), {
      team: [
        ["1", "Team North"],
        ["2", "Team South"],
      ],
      skill: [["5", "French"]],
      status: [
        [OFFLINE, "Offline"],
        ["2", "Available"],
        ["3", "Break"],
      ],
    });
    assert.deepEqual(filterOptions({}), { team: [], skill: [], status: [[OFFLINE, "Offline"]] });
    assert.equal(isOffline(agent(1)), false);
    assert.equal(isOffline(agent(4, { status_name: "Offline" })), true);
  });
});

describe("times", () => {
  test("ages of server times are corrected by the skew", () => {
    const state = apply(initialState(), [snapshotFrame(dashboard({ generated_at: "2025-03-03T09:00:10Z" }))]);
    // The server is 10 s ahead: a status that began at its 08:59:10 is 60 s old at our T0.
    assert.equal(ageAt(state, "2025-03-03T08:59:10Z")(T0), 60);
    assert.equal(ageAt(state, "2025-03-03T08:59:10Z")(T0 + 5000), 65);
    assert.equal(ageAt(state, null), null);
    assert.equal(ageAt(state, "not a time"), null);
  });

  test("a queue's longest wait grows from what was sent; 0 when nothing waits", () => {
    const state = apply(initialState(), [snapshotFrame(dashboard())]);
    const waiting = { waiting: 2, longest_wait_seconds: 40 };
    assert.equal(longestWaitAt(state, waiting)(T0), 40);
    assert.equal(longestWaitAt(state, waiting)(T0 + 3000), 43);
    assert.equal(longestWaitAt(state, { waiting: 0, longest_wait_seconds: 40 })(T0 + 3000), 0);
    assert.equal(longestWaitAt(state, { waiting: 1, longest_wait_seconds: null })(T0), 0);
  });
});

describe("alerts", () => {
  const alert = (id) => ({ id, kind: "long_wait", text: `Alert ${id}` });

  test("an alert notifies the first time it is seen, not while it lasts", () => {
    let state = apply(initialState(), [snapshotFrame(dashboard({ alerts: [alert("a")] }))]);
    assert.deepEqual(state.freshAlerts, [alert("a")]);
    state = apply(state, [snapshotFrame(dashboard({ alerts: [alert("a"), alert("b")] }))], T0 + 1000);
    assert.deepEqual(state.freshAlerts, [alert("b")]);
    assert.deepEqual(state.alertsSeen, [
      ["a", T0 + 1000],
      ["b", T0 + 1000],
    ]);
  });

  test("one that clears and comes back soon does not notify again; after a long while it does", () => {
    let state = apply(initialState(), [snapshotFrame(dashboard({ alerts: [alert("a")] }))]);
    state = apply(state, [snapshotFrame(dashboard())], T0 + 1000);
    state = apply(state, [snapshotFrame(dashboard({ alerts: [alert("a")] }))], T0 + RENOTIFY_AFTER_MS);
    assert.deepEqual(state.freshAlerts, []);
    state = apply(state, [snapshotFrame(dashboard())], T0 + 2 * RENOTIFY_AFTER_MS + 1);
    assert.deepEqual(state.alertsSeen, []);
    state = apply(state, [snapshotFrame(dashboard({ alerts: [alert("a")] }))], T0 + 2 * RENOTIFY_AFTER_MS + 2);
    assert.deepEqual(state.freshAlerts, [alert("a")]);
  });

  test("alerts seen before a reload do not notify again", () => {
    const state = apply(initialState({ alertsSeen: [["a", T0 - 1000]] }), [snapshotFrame(dashboard({ alerts: [alert("a")] }))]);
    assert.deepEqual(state.freshAlerts, []);
  });
});

describe("words and actions", () => {
  test("service level with its goal, marked below goal; none before anyone was answered", () => {
    const queue = { service_level_goal: 0.8, service_level_seconds: 20 };
    assert.deepEqual(serviceLevel({ ...queue, service_level_today: null }), { text: "— (80%)", measured: false });
    assert.deepEqual(serviceLevel({ ...queue, service_level_today: 1, below_goal: false }), {
      text: "100% (80%)",
      measured: true,
      belowGoal: false,
      title: "Answered within 20 s today",
    });
    assert.equal(serviceLevel({ ...queue, service_level_today: 0.755, below_goal: true }).text, "76% (80%) below goal");
  });

  test("the bot's line", () => {
    assert.equal(botResolvedLabel(1), "Self-service bot: 1 contact resolved without an agent today.");
    assert.equal(botResolvedLabel(3), "Self-service bot: 3 contacts resolved without an agent today.");
    assert.equal(botResolvedLabel(undefined), "Self-service bot: 0 contacts resolved without an agent today.");
  });

  test("reassign to any queue, or an agent open for work who does not hold the item", () => {
    const data = dashboard({ agents: [agent(1), agent(2), agent(3, { status_id: 3 })] });
    assert.deepEqual(reassignTargets(data).agents.map((a) => a.id), [1, 2]);
    assert.deepEqual(reassignTargets(data, 1).agents.map((a) => a.id), [2]);
    assert.deepEqual(reassignTargets(data).queues.map((q) => q.id), [1, 2]);
    assert.deepEqual(reassignTargets({}), { queues: [], agents: [] });
  });

  test("a reassign choice becomes the API's body", () => {
    assert.deepEqual(reassignBody("queue:2"), { queue_id: 2 });
    assert.deepEqual(reassignBody("agent:7"), { agent_id: 7 });
    assert.equal(reassignBody(""), null);
    assert.equal(reassignBody("skill:1"), null);
  });

  test("Raise adds ten, up to 100", () => {
    assert.equal(raisedPriority(0), 10);
    assert.equal(raisedPriority("45"), 55);
    assert.equal(raisedPriority(95), 100);
  });
});
