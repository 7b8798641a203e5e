// The supervisor dashboard's state and the one function that changes it: reduce(state, action,
// now). Actions: the server's `dashboard.snapshot` and the page's own "ui.filter".
//
// Pure, like the console's (channels_app/console/state.js): no DOM, no timers, no socket, the
// clock passed in. The server sends whole snapshots today; deltas would be more actions here.

/** An alert that clears and comes back within this long (a queue's service level hovering
 * round its goal) does not notify again. */
export const RENOTIFY_AFTER_MS = 10 * 60 * 1000;

/** Signed out (no status) and a status named "Offline" are one choice in the status filter. */
export const OFFLINE = "offline";

export const FILTER_NAMES = ["team", "queue", "skill", "status"];

/** `alertsSeen`: [[alert id, last seen (ms)]] kept from before (a reload of the page). */
export function initialState({ alertsSeen = [] } = {}) {
  return {
    snapshot: null,
    receivedAt: null, // ms, by the browser's clock
    skewMs: 0, // the server's clock minus ours when the snapshot was made
    filters: { team: "", queue: "", skill: "", status: "" },
    alertsSeen,
    freshAlerts: [], // alerts of the last snapshot to notify: not seen within RENOTIFY_AFTER_MS
  };
}

export function reduce(state, action, now) {
  const data = action.data || {};
  switch (action.type) {
    case "dashboard.snapshot":
      return applySnapshot(state, data, now);
    case "ui.filter":
      if (!FILTER_NAMES.includes(data.name)) return state;
      return { ...state, filters: { ...state.filters, [data.name]: data.value || "" } };
    default:
      return state;
  }
}

/** The new picture; a filter whose choice is gone from it goes back to "All". */
function applySnapshot(state, data, now) {
  const generated = Date.parse(data.generated_at);
  const options = filterOptions(data);
  const filters = Object.fromEntries(
    FILTER_NAMES.map((name) => {
      const value = state.filters[name];
      return [name, options[name].some(([option]) => option === value) ? value : ""];
    }),
  );
  const { seen, fresh } = noteAlerts(state.alertsSeen, data.alerts || [], now);
  return {
    ...state,
    snapshot: data,
    receivedAt: now,
    skewMs: Number.isNaN(generated) ? 0 : generated - now,
    filters,
    alertsSeen: seen,
    freshAlerts: fresh,
  };
}

/** Which alerts are new to this supervisor, and when each was last seen. */
function noteAlerts(seenBefore, alerts, now) {
  const seen = new Map(seenBefore);
  const fresh = alerts.filter((alert) => !seen.has(alert.id));
  for (const alert of alerts) seen.set(alert.id, now);
  return { seen: [...seen].filter(([, at]) => now - at <= RENOTIFY_AFTER_MS), fresh };
}

// ---------- filters ----------

/** Each filter's choices as [value, label] ("All" comes first in the page). */
export function filterOptions(data) {
  return {
    team: (data.teams || []).map((team) => [String(team.id), team.name]),
    queue: (data.queues || []).map((queue) => [String(queue.id), queue.name]),
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

export function agentMatches(agent, { team, queue, skill, status }) {
  if (team && String(agent.team_id) !== team) return false;
  if (queue && !(agent.queue_ids || []).map(String).includes(queue)) return false;
  if (skill && !(agent.skill_ids || []).map(String).includes(skill)) return false;
  if (status === OFFLINE && !isOffline(agent)) return false;
  if (status && status !== OFFLINE && String(agent.status_id) !== status) return false;
  return true;
}

/** {shown, all}: the agents the filters let through, and every agent. */
export function visibleAgents(state) {
  const all = (state.snapshot && state.snapshot.agents) || [];
  return { shown: all.filter((agent) => agentMatches(agent, state.filters)), all };
}

export function agentCountLabel(shown, all) {
  return shown === all ? `${all} agents` : `${shown} of ${all} agents`;
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
  return (now) => base + (now - state.receivedAt) / 1000;
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
