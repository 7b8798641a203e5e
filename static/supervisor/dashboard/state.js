// The supervisor dashboard's state and the one function that changes it: reduce(state, action,
// now). Actions: the server's `dashboard.snapshot` (the whole picture, with one page of agents)
// and `dashboard.delta` (what changed since), and the page's own "ui.filter" and "ui.page",
// which change the view the page asks the server for (viewRequest → `dashboard.view`).
//
// Pure, like the console's (channels_app/console/state.js): no DOM, no timers, no socket, the
// clock passed in.

/** An alert that clears and comes back within this long (a queue's service level hovering
 * round its goal) does not notify again. */
export const RENOTIFY_AFTER_MS = 10 * 60 * 1000;

/** Signed out (no status) and a status named "Offline" are one choice in the status filter. */
export const OFFLINE = "offline";

/** The filters the server applies (`dashboard.view`); `search` is typed, the others chosen. */
export const FILTER_NAMES = ["team", "skill", "status", "search"];

export const PAGE_SIZE = 50;

/** `alertsSeen`: [[alert id, last seen (ms)]] kept from before (a reload of the page). */
export function initialState({ alertsSeen = [] } = {}) {
  return {
    snapshot: null,
    receivedAt: null, // ms, by the browser's clock
    skewMs: 0, // the server's clock minus ours when the snapshot was made
    filters: { team: "", skill: "", status: "", search: "" },
    offset: 0,
    queuesReceivedAt: {}, // queue id → ms when its row last came
    alertsSeen,
    freshAlerts: [], // alerts of the last frame to notify: not seen within RENOTIFY_AFTER_MS
  };
}

export function reduce(state, action, now) {
  const data = action.data || {};
  switch (action.type) {
    case "dashboard.snapshot":
      return applySnapshot(state, data, now);
    case "dashboard.delta":
      return state.snapshot ? applyDelta(state, data, now) : state;
    case "ui.filter":
      if (!FILTER_NAMES.includes(data.name)) return state;
      // A new filter starts again from its first page.
      return { ...state, filters: { ...state.filters, [data.name]: data.value || "" }, offset: 0 };
    case "ui.page": {
      const total = (state.snapshot && state.snapshot.agents_total) || 0;
      const offset = Math.max(0, state.offset + Math.sign(Number(data.step) || 0) * PAGE_SIZE);
      return offset === state.offset || offset >= Math.max(total, 1) ? state : { ...state, offset };
    }
    default:
      return state;
  }
}

/** The `dashboard.view` data for the state's filters and page. */
export function viewRequest(state) {
  const { team, skill, status, search } = state.filters;
  const id = (value) => (value && value !== OFFLINE ? Number(value) : null);
  return {
    offset: state.offset,
    limit: PAGE_SIZE,
    search: search.trim().slice(0, 100),
    team_id: id(team),
    skill_id: id(skill),
    status_id: status === OFFLINE ? null : id(status),
    offline: status === OFFLINE,
  };
}

/** The new picture; the filters and page are the view the server says is in force. */
function applySnapshot(state, data, now) {
  const generated = Date.parse(data.generated_at);
  const view = data.view || {};
  const filters = {
    team: view.team_id == null ? "" : String(view.team_id),
    skill: view.skill_id == null ? "" : String(view.skill_id),
    status: view.offline ? OFFLINE : view.status_id == null ? "" : String(view.status_id),
    search: view.search || "",
  };
  const { seen, fresh } = noteAlerts(state.alertsSeen, data.alerts || [], now);
  return {
    ...state,
    snapshot: data,
    receivedAt: now,
    skewMs: Number.isNaN(generated) ? 0 : generated - now,
    filters,
    offset: view.offset || 0,
    queuesReceivedAt: Object.fromEntries((data.queues || []).map((queue) => [queue.id, now])),
    alertsSeen: seen,
    freshAlerts: fresh,
  };
}

/** Rows replaced by id, new ones added, removed ones dropped, in `order`. */
function merged(rows, changed, removed, key, order) {
  const byKey = new Map(rows.map((row) => [row[key], row]));
  for (const id of removed || []) byKey.delete(id);
  for (const row of changed || []) byKey.set(row[key], row);
  return [...byKey.values()].sort(order);
}

const byName = (a, b) => a.name.localeCompare(b.name) || a.id - b.id;
const byServingOrder = (a, b) =>
  b.priority - a.priority || Date.parse(a.enqueued_at) - Date.parse(b.enqueued_at) || a.work_item_id - b.work_item_id;

/** What changed merged into the picture; lists the delta leaves out stay as they were. */
function applyDelta(state, data, now) {
  const before = state.snapshot;
  const snapshot = {
    ...before,
    generated_at: data.generated_at || before.generated_at,
    queues: merged(before.queues || [], data.queues, [], "id", byName),
    agents: merged(before.agents || [], data.agents, data.agents_removed, "id", byName),
    agents_total: data.agents_total ?? before.agents_total,
    waiting: merged(before.waiting || [], data.waiting, data.waiting_removed, "work_item_id", byServingOrder),
  };
  for (const whole of ["alerts", "skills_backlog", "bot_resolved_today"]) {
    if (whole in data) snapshot[whole] = data[whole];
  }
  const noted = "alerts" in data ? noteAlerts(state.alertsSeen, data.alerts, now) : null;
  const generated = Date.parse(data.generated_at);
  return {
    ...state,
    snapshot,
    receivedAt: now,
    skewMs: Number.isNaN(generated) ? state.skewMs : generated - now,
    // A queue row the delta leaves out keeps growing from when it came.
    queuesReceivedAt: {
      ...state.queuesReceivedAt,
      ...Object.fromEntries((data.queues || []).map((queue) => [queue.id, now])),
    },
    alertsSeen: noted ? noted.seen : state.alertsSeen,
    freshAlerts: noted ? noted.fresh : [],
  };
}

/** Which alerts are new to this supervisor, and when each was last seen. */
function noteAlerts(seenBefore, alerts, now) {
  const seen = new Map(seenBefore);
  const fresh = alerts.filter((alert) => !seen.has(alert.id));
  for (const alert of alerts) seen.set(alert.id, now);
  return { seen: [...seen].filter(([, at]) => now - at <= RENOTIFY_AFTER_MS), fresh };
}

// ---------- filters and pages ----------

/** Each chosen filter's choices as [value, label] ("All" comes first in the page). */
export function filterOptions(data) {
  return {
    team: (data.teams || []).map((team) => [String(team.id), team.name]),
    skill: (data.skills || []).map((skill) => [String(skill.id), skill.name]),
    status: [
      [OFFLINE, "Offline"],
      ...(data.statuses || [])
        .filter((status) => status.name !== "Offline")
        .map((status) => [String(status.id), status.name]),
    ],
  };
}

export function isOffline(agent) {
  return agent.status_id == null || agent.status_name === "Offline";
}

/** "51–100 of 2,000 agents"; "1 agent", "No agents" without a filter; "No agent matches" with. */
export function pageLabel(state) {
  const snapshot = state.snapshot || {};
  const total = snapshot.agents_total || 0;
  const shown = (snapshot.agents || []).length;
  const filtered = Object.values(state.filters).some(Boolean);
  if (!total) return filtered ? "No agent matches the filters." : "No agents.";
  const count = (n) => n.toLocaleString("en-US");
  if (shown === total) return `${count(total)} agent${total === 1 ? "" : "s"}`;
  const first = state.offset + 1;
  return `${count(first)}–${count(state.offset + shown)} of ${count(total)} agents`;
}

/** Whether there is a page before and after this one. */
export function pageMoves(state) {
  const total = (state.snapshot && state.snapshot.agents_total) || 0;
  return { previous: state.offset > 0, next: state.offset + PAGE_SIZE < total };
}

// ---------- times ----------

/** (now) → seconds since a server time, corrected by the clock skew; null when the time is
 * unknown (the cell then shows "—"). */
export function ageAt(state, iso) {
  const then = Date.parse(iso);
  if (!iso || Number.isNaN(then)) return null;
  return (now) => (now + state.skewMs - then) / 1000;
}

/** (now) → the queue's longest wait: as sent, plus the time since it came (0 when none waits). */
export function longestWaitAt(state, queue) {
  if (!(queue.waiting > 0)) return () => 0;
  const base = Number(queue.longest_wait_seconds) || 0;
  const received = (state.queuesReceivedAt || {})[queue.id] ?? state.receivedAt;
  return (now) => base + (now - received) / 1000;
}

// ---------- words ----------

/** "93% (80%)" and whether it is below the goal; "— (80%)" before anyone was answered today. */
export function serviceLevel(queue) {
  const goal = `${Math.round(queue.service_level_goal * 100)}%`;
  if (queue.service_level_today == null) return { text: `— (${goal})`, measured: false };
  const level = `${Math.round(queue.service_level_today * 100)}%`;
  return {
    text: `${level} (${goal})${queue.below_goal ? " below goal" : ""}`,
    measured: true,
    belowGoal: Boolean(queue.below_goal),
    title: `Answered within ${queue.service_level_seconds} s today`,
  };
}

export function botResolvedLabel(count) {
  const bot = Number(count) || 0;
  return `Self-service bot: ${bot} contact${bot === 1 ? "" : "s"} resolved without an agent today.`;
}

// ---------- actions ----------

/** Where an item may be reassigned: any queue, or an agent open for work now who does not
 * hold it already. */
export function reassignTargets(data, holderId = null) {
  const open = new Set((data.statuses || []).filter((status) => status.open_for_work).map((status) => status.id));
  return {
    queues: data.queues || [],
    agents: (data.agents || []).filter((agent) => open.has(agent.status_id) && agent.id !== holderId),
  };
}

/** "Raise" moves an item ten up, to 100 at most. */
export function raisedPriority(priority) {
  return Math.min(100, Number(priority) + 10);
}

/** The body of the reassign call from a "queue:3" / "agent:7" choice, or null for none. */
export function reassignBody(choice) {
  const [kind, id] = choice.split(":");
  if (!id || !["queue", "agent"].includes(kind)) return null;
  return { [`${kind}_id`]: Number(id) };
}
