// Supervisor dashboard: /supervisor/ → /ws/supervisor/ (see docs/protocol.md).
import { clockTime, connectSocket, csrfToken, el, formatDuration } from "../contactcenter/socket.js";

const $ = (id) => document.getElementById(id);
const connection = $("connection");
const WARN_WAIT_SECONDS = 60;

// Each ticking cell: {node, at(nowMs) → seconds}. Rebuilt on every snapshot.
let tickers = [];

connectSocket("/ws/supervisor/", {
  onFrame({ type, data }) {
    if (type === "dashboard.snapshot") render(data);
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

function render(data) {
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

  const queues = data.queues || [];
  $("queue-rows").replaceChildren(
    ...(queues.length ? queues.map((queue) => {
      const base = Number(queue.longest_wait_seconds) || 0;
      const wait = queue.waiting > 0 ? (now) => base + (now - received) / 1000 : () => 0;
      return el(
        "tr",
        { "data-warn": String(queue.waiting > 0 && base >= WARN_WAIT_SECONDS) },
        el("th", { scope: "row" }, queue.name),
        el("td", { class: "num" }, String(queue.waiting)),
        el("td", { class: "num" }, ticking(wait)),
      );
    }) : [emptyRow(3, "No queues.")]),
  );

  const agents = data.agents || [];
  $("agent-rows").replaceChildren(
    ...(agents.length ? agents.map((agent) => el(
      "tr",
      { "data-agent-id": agent.id },
      el("th", { scope: "row" }, agent.name),
      el("td", {}, statusControl(agent, data.statuses || [])),
      el("td", { class: "num" }, ticking(agent.status_since && since(agent.status_since))),
      el("td", {}, capacityCell(agent)),
      el("td", {}, workCell(agent.items || [], since, ticking)),
    )) : [emptyRow(5, "No agents.")]),
  );

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
    )) : [emptyRow(6, "Nothing is waiting.")]),
  );

  $("last-update").textContent = `Last update ${clockTime(new Date(received), true)}`;
  tick();
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

function workCell(items, since, ticking) {
  if (!items.length) return el("span", { class: "muted" }, "—");
  return el(
    "ul",
    { class: "work-items" },
    items.map((item) =>
      el(
        "li",
        { "data-state": item.state },
        `${item.channel} · ${item.customer_name} (${item.state}, `,
        ticking(since(item.since)),
        ")",
      ),
    ),
  );
}

function emptyRow(columns, text) {
  return el("tr", {}, el("td", { colspan: String(columns), class: "muted" }, text));
}

function tick() {
  const now = Date.now();
  for (const { node, at } of tickers) node.textContent = formatDuration(at(now));
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
