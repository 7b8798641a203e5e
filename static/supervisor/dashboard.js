// Supervisor dashboard: /supervisor/ → /ws/supervisor/ (see docs/protocol.md and docs/frontend.md).
// The entry module: snapshots and the supervisor's filters go through the pure reducer
// (dashboard/state.js), then each panel draws the state.
import { clockTime, connectSocket } from "../contactcenter/socket.js";
import { connectionLabel } from "../contactcenter/format.js";
import { mountAgents } from "./dashboard/agents.js";
import { mountAlerts, storedAlertsSeen } from "./dashboard/alerts.js";
import { renderBacklog } from "./dashboard/backlog.js";
import { tickerSet } from "./dashboard/cells.js";
import { renderQueues } from "./dashboard/queues.js";
import { initialState, reduce } from "./dashboard/state.js";
import { renderWaiting } from "./dashboard/waiting.js";

const $ = (id) => document.getElementById(id);

let state = initialState({ alertsSeen: storedAlertsSeen() });
const tickers = { queues: tickerSet(), agents: tickerSet(), waiting: tickerSet() };
const alerts = mountAlerts();
const agents = mountAgents({
  dispatch(action) {
    state = reduce(state, action, Date.now());
    agents.render(state, tickers.agents);
    tick();
  },
});

function render() {
  if (!state.snapshot) return;
  alerts.render(state);
  renderQueues(state, tickers.queues);
  agents.render(state, tickers.agents);
  renderBacklog(state);
  renderWaiting(state, tickers.waiting);
  $("last-update").textContent = `Last update ${clockTime(new Date(state.receivedAt), true)}`;
  tick();
}

function tick() {
  const now = Date.now();
  for (const set of Object.values(tickers)) set.tick(now);
}

setInterval(tick, 1000);

// ---------- holding a snapshot back while a list in the tables is open ----------

// Redrawing would close a list the supervisor has open: wait until they leave it, but never
// longer than this, so that a list left focused does not freeze the picture.
const HOLD_BACK_MS = 5000;
let held = false;
let holdTimer = null;

function controlInUse() {
  const active = document.activeElement;
  return active instanceof HTMLSelectElement && active.closest("tbody") !== null;
}

function holdBack() {
  held = true;
  if (!holdTimer) holdTimer = setTimeout(drawNow, HOLD_BACK_MS);
}

function drawNow() {
  clearTimeout(holdTimer);
  holdTimer = null;
  held = false;
  render();
}

document.addEventListener("focusout", () => {
  // After the focus has moved on (focusout fires before it lands).
  setTimeout(() => {
    if (held && !controlInUse()) drawNow();
  }, 0);
});

connectSocket("/ws/supervisor/", {
  onFrame(frame) {
    if (frame.type !== "dashboard.snapshot") return;
    state = reduce(state, frame, Date.now());
    alerts.notify(state);
    if (controlInUse()) holdBack();
    else drawNow();
  },
  onStatusChange(status, code) {
    const connection = $("connection");
    connection.dataset.state = status;
    connection.textContent = connectionLabel(status, code, "Not allowed to view the dashboard");
  },
});
