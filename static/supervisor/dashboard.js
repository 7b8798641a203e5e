// Supervisor dashboard: /supervisor/ → /ws/supervisor/ (see docs/protocol.md and docs/frontend.md).
// The entry module: snapshots, deltas and the supervisor's filters and pages go through the
// pure reducer (dashboard/state.js), then each panel draws the state; a changed filter or page
// asks the server for that view (`dashboard.view`), which answers with a snapshot of it.
import { clockTime, connectSocket } from "../contactcenter/socket.js";
import { connectionLabel } from "../contactcenter/format.js";
import { mountAgents } from "./dashboard/agents.js";
import { mountAlerts, storedAlertsSeen } from "./dashboard/alerts.js";
import { renderBacklog } from "./dashboard/backlog.js";
import { tickerSet } from "./dashboard/cells.js";
import { renderQueues } from "./dashboard/queues.js";
import { initialState, reduce, viewRequest } from "./dashboard/state.js";
import { renderWaiting } from "./dashboard/waiting.js";

const $ = (id) => document.getElementById(id);

let state = initialState({ alertsSeen: storedAlertsSeen() });
const tickers = { queues: tickerSet(), agents: tickerSet(), waiting: tickerSet() };
const alerts = mountAlerts();
let socket = null;
const agents = mountAgents({
  dispatch(action) {
    const before = state;
    state = reduce(state, action, Date.now());
    if (state !== before && socket) socket.send("dashboard.view", viewRequest(state));
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

const DEFAULT_VIEW = JSON.stringify(viewRequest(initialState()));

socket = connectSocket("/ws/supervisor/", {
  onOpen() {
    // A new connection starts on the first page with no filter: ask again for ours.
    const view = viewRequest(state);
    if (JSON.stringify(view) !== DEFAULT_VIEW) socket.send("dashboard.view", view);
  },
  onFrame(frame) {
    if (frame.type !== "dashboard.snapshot" && frame.type !== "dashboard.delta") return;
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
