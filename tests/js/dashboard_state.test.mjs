// The supervisor dashboard's reducer and selectors (static/supervisor/dashboard/state.js).
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  OFFLINE,
  RENOTIFY_AFTER_MS,
  ageAt,
  agentCountLabel,
  agentMatches,
  botResolvedLabel,
  filterOptions,
  initialState,
  isOffline,
  longestWaitAt,
  raisedPriority,
  reassignBody,
  reassignTargets,
  reduce,
  serviceLevel,
  visibleAgents,
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

const shownIds = (state) => visibleAgents(state).shown.map((a) => a.id);

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

describe("filters", () => {
  test("every agent shows until a filter is chosen", () => {
    const state = apply(initialState(), [snapshotFrame(dashboard())]);
    assert.deepEqual(shownIds(state), [1, 2, 3, 4]);
    assert.equal(agentCountLabel(4, 4), "4 agents");
    assert.deepEqual(visibleAgents(initialState()), { shown: [], all: [] });
  });

  test("by team, queue, skill and status, together", () => {
    const state = apply(initialState(), [snapshotFrame(dashboard())]);
    assert.deepEqual(shownIds(apply(state, [filter("team", "2")])), [2, 4]);
    assert.deepEqual(shownIds(apply(state, [filter("queue", "2")])), [2]);
    assert.deepEqual(shownIds(apply(state, [filter("skill", "5")])), [2]);
    assert.deepEqual(shownIds(apply(state, [filter("status", "2")])), [1]);
    assert.deepEqual(shownIds(apply(state, [filter("team", "1"), filter("status", "3")])), []);
    assert.equal(agentCountLabel(1, 4), "1 of 4 agents");
  });

  test("Offline takes signed-out agents and a status named Offline", () => {
    const state = apply(initialState(), [snapshotFrame(dashboard()), filter("status", OFFLINE)]);
    assert.deepEqual(shownIds(state), [3, 4]);
    assert.equal(isOffline(agent(1)), false);
  });

  test("choosing All again shows everyone; an unknown filter name is ignored", () => {
    let state = apply(initialState(), [snapshotFrame(dashboard()), filter("team", "2"), filter("team", "")]);
    assert.deepEqual(shownIds(state), [1, 2, 3, 4]);
    assert.equal(reduce(state, filter("colour", "red"), T0), state);
  });

  test("a choice survives the next snapshot while it is still offered, and goes back to All when not", () => {
    let state = apply(initialState(), [snapshotFrame(dashboard()), filter("team", "2"), filter("skill", "5")]);
    state = apply(state, [snapshotFrame(dashboard())]);
    assert.deepEqual(state.filters, { team: "2", queue: "", skill: "5", status: "" });
    state = apply(state, [snapshotFrame(dashboard({ teams: [{ id: 1, name: "Team North" }] }))]);
    assert.deepEqual(state.filters, { team: "", queue: "", skill: "5", status: "" });
  });

  test("options: Offline once, first; a status named Offline is not listed twice", () => {
    assert.deepEqual(filterOptions(dashboard()), {
      team: [
        ["1", "Team North"],
        ["2", "Team South"],
      ],
      queue: [
        ["1", "Web chat"],
        ["2", "Billing"],
      ],
      skill: [["5", "French"]],
      status: [
        [OFFLINE, "Offline"],
        ["2", "Available"],
        ["3", "Break"],
      ],
    });
    assert.deepEqual(filterOptions({}), { team: [], queue: [], skill: [], status: [[OFFLINE, "Offline"]] });
  });

  test("an agent without queue or skill lists matches no queue or skill filter", () => {
    const bare = agent(9, { queue_ids: undefined, skill_ids: undefined });
    assert.equal(agentMatches(bare, { team: "", queue: "1", skill: "", status: "" }), false);
    assert.equal(agentMatches(bare, { team: "", queue: "", skill: "5", status: "" }), false);
    assert.equal(agentMatches(bare, { team: "", queue: "", skill: "", status: "" }), true);
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
