// Waiting work, next served first, with why each item waits; raise or reassign from here.
import { el } from "../../contactcenter/socket.js";
import { raiseButton, reassignControl } from "./actions.js";
import { emptyRow } from "./cells.js";
import { ageAt } from "./state.js";

export function renderWaiting(state, tickers) {
  const waiting = state.snapshot.waiting || [];
  tickers.clear();
  const rows = waiting.length
    ? waiting.map((item) => waitingRow(item, state, tickers))
    : [emptyRow(7, "Nothing is waiting.")];
  document.getElementById("waiting-rows").replaceChildren(...rows);
}

function waitingRow(item, state, tickers) {
  return el(
    "tr",
    { "data-work-item": String(item.work_item_id) },
    el("th", { scope: "row" }, item.customer_name),
    el("td", {}, `${item.channel} · ${item.queue}`),
    el("td", { class: "num" }, tickers.cell(ageAt(state, item.enqueued_at))),
    el("td", { class: "num" }, String(item.priority), " ", raiseButton(item)),
    el("td", {}, (item.skills || []).join(", ") || "—"),
    el("td", { class: "why" }, item.why),
    el("td", {}, reassignControl(item.work_item_id, item.customer_name, state.snapshot)),
  );
}
