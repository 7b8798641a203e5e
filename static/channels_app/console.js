// Agent console: /console/ → /ws/agent/ (see docs/protocol.md and docs/frontend.md).
// The entry module: frames from the socket and the agent's actions go through the pure
// reducer (console/state.js), then every panel draws the new state. What the reducer cannot do
// (storage, sound, timers, the socket) happens here or in the panels.
import { connectSocket } from "../contactcenter/socket.js";
import { alertNewOffer, mountAlertToggles } from "./console/alerts.js";
import { draftStore } from "./console/drafts.js";
import { mountNotices } from "./console/notices.js";
import { mountOffers } from "./console/offers.js";
import { TYPING_SHOWN_MS, initialState, oldestOpenOffer, reduce, tabAfterStep } from "./console/state.js";
import { mountTabs } from "./console/tabs.js";
import { mountTopBar } from "./console/topbar.js";
import { mountWork } from "./console/work.js";
import { ownTyping } from "./console/work/composer.js";
import { mountWrapUpLine } from "./console/work/wrapup.js";

let state = initialState();
const getState = () => state;

/** Apply an action and draw; `options.focusTab` moves the focus to the active tab. */
function dispatch(action, options = {}) {
  state = reduce(state, action, Date.now());
  render(options);
}

function send(type, data) {
  if (socket.send(type, data)) return true;
  showError("Not connected — please wait while we reconnect.");
  return false;
}

function showError(message) {
  dispatch({ type: "ui.error", data: { message } });
}

const drafts = draftStore(
  () => window.localStorage,
  () => state.agent && state.agent.id,
);
const ctx = { dispatch, send, showError, getState, drafts };
ctx.typing = ownTyping(ctx);

const offers = mountOffers(ctx);
const panels = [mountTopBar(ctx), mountNotices(ctx), mountWrapUpLine(), offers, mountTabs(ctx), mountWork(ctx)];

let drawing = false;
let drawAgain = null;

function render(options = {}) {
  // An event fired while drawing (a focused reply box removed with its panel may fire blur,
  // and blur sends "stopped typing") may dispatch: draw again afterwards, not inside.
  if (drawing) {
    drawAgain = { ...drawAgain, ...options };
    return;
  }
  drawing = true;
  try {
    const now = Date.now();
    for (const panel of panels) panel.render(state, now, options);
  } finally {
    drawing = false;
  }
  if (drawAgain) {
    const next = drawAgain;
    drawAgain = null;
    render(next);
  }
}

const socket = connectSocket("/ws/agent/", {
  onFrame,
  onStatusChange: (status, code) => dispatch({ type: "ui.connection", data: { status, code } }),
});

function onFrame(frame) {
  state = reduce(state, frame, Date.now());
  const { type, data } = frame;
  if (type === "console.snapshot" || type === "work.assigned") restoreDrafts();
  if (type === "console.snapshot") drafts.dropStale(state.items.map((item) => item.id));
  if (type === "work.closed") drafts.forget(data.work_item_id);
  if (type === "offer.created") alertNewOffer(data);
  // The state lets the notice lapse; this draws the moment it does.
  if (type === "chat.typing" && data.typing) setTimeout(render, TYPING_SHOWN_MS);
  render();
}

/** What the browser kept of the drafts (a reload, a crash) fills conversations with none. */
function restoreDrafts() {
  const ids = state.items.filter((item) => !item.draft || !item.noteMode).map((item) => item.id);
  state = reduce(state, { type: "ui.drafts-restored", data: drafts.saved(ids) }, Date.now());
}

// Countdowns, times in status, the call timer and the wrap-up line.
setInterval(render, 1000);

mountAlertToggles(document.querySelector(".console__bar"));

document.addEventListener("keydown", (event) => {
  if (!event.altKey || event.ctrlKey || event.metaKey) return;
  // By key position: on a Mac, Alt changes the character typed (Alt+A is "å").
  const key = { KeyA: "a", KeyD: "d", KeyN: "n", KeyP: "p" }[event.code];
  if (!key) return;
  if (key === "a" || key === "d") {
    const oldest = oldestOpenOffer(state, Date.now());
    if (!oldest) return;
    event.preventDefault();
    if (key === "a") offers.accept(oldest.data.offer_id);
    else offers.decline(oldest.data.offer_id);
    return;
  }
  const id = tabAfterStep(state, key === "n" ? 1 : -1);
  if (id === null) return;
  event.preventDefault();
  dispatch({ type: "ui.activate", data: { work_item_id: id } }, { focusTab: true });
});
