// The agents table and its filters (team, queue, skill, status): each agent's status (which
// the supervisor can change), time in it, capacity, current work and today's counts.
import { el } from "../../contactcenter/socket.js";
import { reassignControl, statusControl } from "./actions.js";
import { emptyRow } from "./cells.js";
import { FILTER_NAMES, ageAt, agentCountLabel, filterOptions, visibleAgents } from "./state.js";

export function mountAgents({ dispatch }) {
  const selects = Object.fromEntries(FILTER_NAMES.map((name) => [name, document.getElementById(`filter-${name}`)]));
  for (const [name, select] of Object.entries(selects)) {
    select.addEventListener("change", () => dispatch({ type: "ui.filter", data: { name, value: select.value } }));
  }

  function render(state, tickers) {
    if (!state.snapshot) return;
    fillFilters(selects, state);
    const { shown, all } = visibleAgents(state);
    tickers.clear();
    document.getElementById("agent-count").textContent = agentCountLabel(shown.length, all.length);
    document.getElementById("agent-rows").replaceChildren(
      ...(shown.length
        ? shown.map((agent) => agentRow(agent, state, tickers))
        : [emptyRow(8, all.length ? "No agent matches the filters." : "No agents.")]),
    );
  }

  return { render };
}

/** Each filter's options from the snapshot, with the state's choice selected. */
function fillFilters(selects, state) {
  const options = filterOptions(state.snapshot);
  for (const [name, select] of Object.entries(selects)) {
    // Rebuilt only when the choices change, so that an open list is not closed under the
    // supervisor by every snapshot.
    const key = JSON.stringify(options[name]);
    if (select.dataset.options !== key) {
      select.dataset.options = key;
      select.replaceChildren(
        el("option", { value: "" }, "All"),
        ...options[name].map(([value, label]) => el("option", { value }, label)),
      );
    }
    if (select.value !== state.filters[name]) select.value = state.filters[name];
  }
}

function agentRow(agent, state, tickers) {
  const number = (value) => el("td", { class: "num" }, value);
  return el(
    "tr",
    { "data-agent-id": agent.id },
    el("th", { scope: "row" }, agent.name),
    el("td", {}, statusControl(agent, state.snapshot.statuses || [])),
    number(tickers.cell(ageAt(state, agent.status_since))),
    el("td", {}, capacityCell(agent)),
    el("td", {}, workCell(agent, state, tickers)),
    number(String(agent.handled_today ?? 0)),
    number(String(agent.declined_today ?? 0)),
    number(String(agent.missed_today ?? 0)),
  );
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

/** The items the agent holds or is offered, with their handle time and a way to move them. */
function workCell(agent, state, tickers) {
  const items = agent.items || [];
  if (!items.length) return el("span", { class: "muted" }, "—");
  return el(
    "ul",
    { class: "work-items" },
    items.map((item) =>
      el(
        "li",
        { "data-state": item.state, "data-work-item": String(item.work_item_id) },
        `${item.channel} · ${item.customer_name} (${item.state}, `,
        tickers.cell(ageAt(state, item.since)),
        ") ",
        reassignControl(item.work_item_id, item.customer_name, state.snapshot, agent.id),
      ),
    ),
  );
}
