// Supervisor dashboard: /supervisor/ → /ws/supervisor/ (see docs/protocol.md).
import { clockTime, connectSocket, csrfToken, el, formatDuration } from "../contactcenter/socket.js";

const $ = (id) => document.getElementById(id);
const connection = $("connection");

// Each ticking cell: {node, at(nowMs) → seconds}. Rebuilt on every snapshot; the agents'
// rows also on every change of filter.
let tickers = [];
let agentTickers = [];
// A snapshot held back while a control in the tables has the focus.
let pending = null;

function controlInUse() {
  const active = document.activeElement;
  return active instanceof HTMLSelectElement && active.closest("tbody") !== null;
}

// Never longer than this: a list left focused must not freeze the picture.
const HOLD_BACK_MS = 5000;
let holdTimer = null;

function holdBack(data) {
  pending = data;
  if (!holdTimer) holdTimer = setTimeout(renderPending, HOLD_BACK_MS);
}

function renderPending() {
  clearTimeout(holdTimer);
  holdTimer = null;
  if (!pending) return;
  const data = pending;
  pending = null;
  render(data);
}

document.addEventListener("focusout", () => {
  // After the focus has moved on (focusout fires before it lands).
  setTimeout(() => {
    if (!controlInUse()) renderPending();
  }, 0);
});

connectSocket("/ws/supervisor/", {
  onFrame({ type, data }) {
    if (type !== "dashboard.snapshot") return;
    // Redrawing would close a list the supervisor has open: wait until they leave it.
    if (controlInUse()) holdBack(data);
    else render(data);
  },
  onStatusChange(status, code) {
    connection.dataset.state = status;
    connection.textContent = {
      connecting: "Connecting…",
      connected: "Connected",
      reconnecting: "Reconnecting…",
      closed: "Disconnected",
      refused: code === 4401 ? "Signed out — reload to log in" : "Not allowed to view the dashboard",
    }[status] || status;
  },
});

// The last snapshot, so that a change of filter re-renders without waiting for the next one.
let latest = null;
let latestSince = null;

function render(data) {
  latest = data;
  const received = Date.now();
  // Server clock minus ours, so ages from server timestamps do not suffer from clock skew.
  const generated = Date.parse(data.generated_at);
  const skew = Number.isNaN(generated) ? 0 : generated - received;
  const since = (iso) => {
    const then = Date.parse(iso);
    return Number.isNaN(then) ? null : (now) => (now + skew - then) / 1000;
  };
  tickers = [];
  const ticking = (at, className = "") => {
    const node = el("span", { class: className });
    if (at) tickers.push({ node, at });
    else node.textContent = "—";
    return node;
  };
  latestSince = since;

  renderAlerts(data.alerts || []);

  const queues = data.queues || [];
  $("queue-rows").replaceChildren(
    ...(queues.length ? queues.map((queue) => {
      const base = Number(queue.longest_wait_seconds) || 0;
      const wait = queue.waiting > 0 ? (now) => base + (now - received) / 1000 : () => 0;
      return el(
        "tr",
        { "data-warn": String(queue.waiting_past_alert > 0), "data-queue-id": String(queue.id) },
        el("th", { scope: "row" }, queue.name),
        el("td", { class: "num" }, String(queue.waiting)),
        el("td", { class: "num" }, ticking(wait)),
        el("td", { class: "num" }, queue.waiting ? formatDuration(queue.average_wait_seconds) : "—"),
        el("td", { class: "num" }, String(queue.offered_today)),
        el("td", { class: "num" }, String(queue.handled_today)),
        el("td", { class: "num" }, String(queue.abandoned_today)),
        el("td", { class: "num" }, queue.average_speed_of_answer_today == null
          ? "—" : formatDuration(queue.average_speed_of_answer_today)),
        serviceLevelCell(queue),
      );
    }) : [emptyRow(9, "No queues.")]),
  );
  const bot = Number(data.bot_resolved_today) || 0;
  $("bot-today").textContent = `Self-service bot: ${bot} contact${bot === 1 ? "" : "s"} resolved without an agent today.`;

  fillFilters(data);
  renderAgents();

  const backlog = data.skills_backlog || [];
  $("backlog-rows").replaceChildren(
    ...(backlog.length ? backlog.map((row) => el(
      "tr",
      { "data-short": row.available_agents === 0 ? "true" : "false" },
      el("th", { scope: "row" }, row.skill),
      el("td", { class: "num" }, String(row.waiting)),
      el("td", { class: "num" }, String(row.available_agents)),
    )) : [emptyRow(3, "No waiting work needs a skill.")]),
  );

  const waiting = data.waiting || [];
  $("waiting-rows").replaceChildren(
    ...(waiting.length ? waiting.map((item) => el(
      "tr",
      { "data-work-item": String(item.work_item_id) },
      el("th", { scope: "row" }, item.customer_name),
      el("td", {}, `${item.channel} · ${item.queue}`),
      el("td", { class: "num" }, ticking(since(item.enqueued_at))),
      el("td", { class: "num" }, String(item.priority), " ", raiseButton(item)),
      el("td", {}, (item.skills || []).join(", ") || "—"),
      el("td", { class: "why" }, item.why),
      el("td", {}, reassignControl(item.work_item_id, item.customer_name, data)),
    )) : [emptyRow(7, "Nothing is waiting.")]),
  );

  $("last-update").textContent = `Last update ${clockTime(new Date(received), true)}`;
  tick();
}

function serviceLevelCell(queue) {
  const goal = `${Math.round(queue.service_level_goal * 100)}%`;
  if (queue.service_level_today == null) {
    return el("td", { class: "num" }, `— (${goal})`);
  }
  const level = `${Math.round(queue.service_level_today * 100)}%`;
  return el(
    "td",
    {
      class: "num",
      "data-below-goal": String(queue.below_goal),
      title: `Answered within ${queue.service_level_seconds} s today`,
    },
    `${level} (${goal})`,
    queue.below_goal ? " below goal" : "",
  );
}

// ---------- agents and their filters ----------

const filters = {
  team: $("filter-team"),
  queue: $("filter-queue"),
  skill: $("filter-skill"),
  status: $("filter-status"),
};

/** Refill each filter's options from the snapshot, keeping what the supervisor picked. */
function fillFilters(data) {
  const options = {
    team: (data.teams || []).map((team) => [String(team.id), team.name]),
    queue: (data.queues || []).map((queue) => [String(queue.id), queue.name]),
    skill: (data.skills || []).map((skill) => [String(skill.id), skill.name]),
    status: statusFilterOptions(data.statuses || []),
  };
  for (const [name, select] of Object.entries(filters)) {
    // Rebuilt only when the choices change, so that an open list is not closed under the
    // supervisor by every snapshot.
    const key = JSON.stringify(options[name]);
    if (select.dataset.options === key) continue;
    select.dataset.options = key;
    const chosen = select.value;
    select.replaceChildren(
      el("option", { value: "" }, "All"),
      ...options[name].map(([value, label]) => el("option", { value, selected: value === chosen }, label)),
    );
    if (![...select.options].some((option) => option.value === chosen)) select.value = "";
  }
}

// Signed out (no status) and a status named "Offline" are one choice in the filter.
const OFFLINE = "offline";

function statusFilterOptions(statuses) {
  return [
    [OFFLINE, "Offline"],
    ...statuses.filter((status) => status.name !== "Offline").map((status) => [String(status.id), status.name]),
  ];
}

function isOffline(agent) {
  return agent.status_id == null || agent.status_name === "Offline";
}

function agentMatches(agent) {
  const { team, queue, skill, status } = Object.fromEntries(
    Object.entries(filters).map(([name, select]) => [name, select.value]),
  );
  if (team && String(agent.team_id) !== team) return false;
  if (queue && !(agent.queue_ids || []).map(String).includes(queue)) return false;
  if (skill && !(agent.skill_ids || []).map(String).includes(skill)) return false;
  if (status === OFFLINE && !isOffline(agent)) return false;
  if (status && status !== OFFLINE && String(agent.status_id) !== status) return false;
  return true;
}

function renderAgents() {
  if (!latest) return;
  const all = latest.agents || [];
  const agents = all.filter(agentMatches);
  const since = latestSince;
  agentTickers = [];
  const ticking = (at, className = "") => {
    const node = el("span", { class: className });
    if (at) agentTickers.push({ node, at });
    else node.textContent = "—";
    return node;
  };
  $("agent-count").textContent = agents.length === all.length
    ? `${all.length} agents`
    : `${agents.length} of ${all.length} agents`;
  $("agent-rows").replaceChildren(
    ...(agents.length ? agents.map((agent) => el(
      "tr",
      { "data-agent-id": agent.id },
      el("th", { scope: "row" }, agent.name),
      el("td", {}, statusControl(agent, latest.statuses || [])),
      el("td", { class: "num" }, ticking(agent.status_since && since(agent.status_since))),
      el("td", {}, capacityCell(agent)),
      el("td", {}, workCell(agent.items || [], since, ticking, agent.id)),
      el("td", { class: "num" }, String(agent.handled_today ?? 0)),
      el("td", { class: "num" }, String(agent.declined_today ?? 0)),
      el("td", { class: "num" }, String(agent.missed_today ?? 0)),
    )) : [emptyRow(8, all.length ? "No agent matches the filters." : "No agents.")]),
  );
  tick();
}

for (const select of Object.values(filters)) select.addEventListener("change", renderAgents);

// ---------- alerts ----------

// When each alert was last seen. An alert that clears and comes back within this long (a
// queue's service level hovering round its goal) does not notify again.
const RENOTIFY_AFTER_MS = 10 * 60 * 1000;
const notified = new Map(storedNotifications());

function storedNotifications() {
  try {
    const entries = JSON.parse(sessionStorage.getItem("supervisor.notified") || "[]");
    return entries.filter((entry) => Array.isArray(entry) && entry.length === 2);
  } catch {
    return [];
  }
}
const notifyButton = $("enable-notifications");
const notifyState = $("notification-state");

function showNotificationState() {
  if (!("Notification" in window)) {
    notifyState.textContent = "This browser cannot show notifications.";
    return;
  }
  notifyButton.hidden = Notification.permission !== "default";
  notifyState.textContent = {
    granted: "Alerts also appear as notifications.",
    denied: "Notifications are blocked for this site.",
    default: "",
  }[Notification.permission] || "";
}

notifyButton.addEventListener("click", async () => {
  await Notification.requestPermission();
  showNotificationState();
});
showNotificationState();

function renderAlerts(alerts) {
  $("alert-list").replaceChildren(
    ...(alerts.length
      ? alerts.map((alert) => el("li", { "data-kind": alert.kind, "data-alert-id": alert.id }, alert.text))
      : [el("li", { class: "muted" }, "No alerts.")]),
  );
  const now = Date.now();
  for (const alert of alerts) {
    const known = notified.has(alert.id);
    notified.set(alert.id, now);
    if (known) continue;
    if ("Notification" in window && Notification.permission === "granted") {
      new Notification("Contact center alert", { body: alert.text, tag: alert.id });
    }
  }
  for (const [id, seen] of notified) if (now - seen > RENOTIFY_AFTER_MS) notified.delete(id);
  sessionStorage.setItem("supervisor.notified", JSON.stringify([...notified.entries()]));
}

function capacityCell(agent) {
  const used = Number(agent.used_units) || 0;
  const total = Number(agent.capacity) || 0;
  return el(
    "span",
    { class: "capacity-cell" },
    el("meter", {
      min: "0",
      max: String(Math.max(total, 1)),
      value: String(used),
      high: String(Math.max(total, 1)),
      "aria-hidden": "true",
    }),
    ` ${used}/${total}`,
  );
}

function workCell(items, since, ticking, holderId) {
  if (!items.length) return el("span", { class: "muted" }, "—");
  return el(
    "ul",
    { class: "work-items" },
    items.map((item) =>
      el(
        "li",
        { "data-state": item.state, "data-work-item": String(item.work_item_id) },
        `${item.channel} · ${item.customer_name} (${item.state}, `,
        ticking(since(item.since)),
        ") ",
        reassignControl(item.work_item_id, item.customer_name, latest, holderId),
      ),
    ),
  );
}

function emptyRow(columns, text) {
  return el("tr", {}, el("td", { colspan: String(columns), class: "muted" }, text));
}

function tick() {
  const now = Date.now();
  for (const { node, at } of [...tickers, ...agentTickers]) node.textContent = formatDuration(at(now));
}

setInterval(tick, 1000);

// ---------- actions ----------

/** POST a supervisor action; the next snapshot shows its effect, an error shows here. */
async function act(url, body) {
  const banner = $("action-error");
  banner.textContent = "";
  try {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    });
    if (!response.ok) {
      const answer = await response.json().catch(() => ({}));
      banner.textContent = answer.error || `The action failed (${response.status}).`;
    }
  } catch (error) {
    banner.textContent = "The action failed: the server could not be reached.";
  }
}

/** The agent's status as a list the supervisor can change. */
function statusControl(agent, statuses) {
  const select = el(
    "select",
    { "aria-label": `Status of ${agent.name}`, class: "status-select" },
    el("option", { value: "", selected: agent.status_id == null }, "Offline"),
    statuses.map((status) =>
      el("option", { value: String(status.id), selected: status.id === agent.status_id }, status.name),
    ),
  );
  select.addEventListener("change", () => {
    select.blur();
    act(`/api/agents/${agent.id}/presence/`, {
      status_id: select.value ? Number(select.value) : null,
    });
  });
  return select;
}

/** Move a waiting item ahead of the others in its line. */
function raiseButton(item) {
  const button = el(
    "button",
    { type: "button", class: "button button--quiet", "aria-label": `Raise priority of ${item.customer_name}` },
    "Raise",
  );
  button.addEventListener("click", () => {
    button.disabled = true;
    act(`/api/work-items/${item.work_item_id}/priority/`, {
      priority: Math.min(100, Number(item.priority) + 10),
    });
  });
  return button;
}

/** Hand an item to another queue or to a signed-in agent. */
function reassignControl(workItemId, customerName, data, holderId = null) {
  // Only agents who could take it: open for work now, and not the one who holds it.
  const open = new Set((data.statuses || []).filter((status) => status.open_for_work).map((status) => status.id));
  const agents = (data.agents || []).filter((agent) => open.has(agent.status_id) && agent.id !== holderId);
  const select = el(
    "select",
    { "aria-label": `Reassign ${customerName}`, class: "reassign-select" },
    el("option", { value: "" }, "Reassign to…"),
    el("optgroup", { label: "Queues" },
      (data.queues || []).map((queue) => el("option", { value: `queue:${queue.id}` }, queue.name))),
    el("optgroup", { label: "Agents" },
      agents.map((agent) => el("option", { value: `agent:${agent.id}` }, agent.name))),
  );
  select.addEventListener("change", () => {
    const [kind, id] = select.value.split(":");
    if (!id) return;
    select.blur();
    select.disabled = true;
    act(`/api/work-items/${workItemId}/reassign/`, { [`${kind}_id`]: Number(id) }).finally(() => {
      select.disabled = false;
      select.value = "";
    });
  });
  return select;
}
