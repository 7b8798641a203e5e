// The queues table (now and today) and the self-service bot's line under it.
import { el } from "../../contactcenter/socket.js";
import { formatDuration } from "../../contactcenter/format.js";
import { emptyRow } from "./cells.js";
import { botResolvedLabel, longestWaitAt, serviceLevel } from "./state.js";

export function renderQueues(state, tickers) {
  const queues = state.snapshot.queues || [];
  tickers.clear();
  const rows = queues.length ? queues.map((queue) => queueRow(queue, state, tickers)) : [emptyRow(9, "No queues.")];
  document.getElementById("queue-rows").replaceChildren(...rows);
  document.getElementById("bot-today").textContent = botResolvedLabel(state.snapshot.bot_resolved_today);
}

function queueRow(queue, state, tickers) {
  const number = (value) => el("td", { class: "num" }, value);
  return el(
    "tr",
    { "data-warn": String(queue.waiting_past_alert > 0), "data-queue-id": String(queue.id) },
    el("th", { scope: "row" }, queue.name),
    number(String(queue.waiting)),
    number(tickers.cell(longestWaitAt(state, queue))),
    number(queue.waiting ? formatDuration(queue.average_wait_seconds) : "—"),
    number(String(queue.offered_today)),
    number(String(queue.handled_today)),
    number(String(queue.abandoned_today)),
    number(queue.average_speed_of_answer_today == null ? "—" : formatDuration(queue.average_speed_of_answer_today)),
    serviceLevelCell(queue),
  );
}

function serviceLevelCell(queue) {
  const level = serviceLevel(queue);
  if (!level.measured) return el("td", { class: "num" }, level.text);
  return el("td", { class: "num", "data-below-goal": String(level.belowGoal), title: level.title }, level.text);
}
