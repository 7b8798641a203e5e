// The agents table, one page of it, and its filters (team, skill, status, search): each
// agent's status (which the supervisor can change), time in it, capacity, current work and
// today's counts. The server filters and pages (`dashboard.view`); the page asks for a view.
import { el } from "../../contactcenter/socket.js";
import { reassignControl, statusControl } from "./actions.js";
import { emptyRow } from "./cells.js";
import { ageAt, filterOptions, pageLabel, pageMoves } from "./state.js";

const CHOSEN = ["team", "skill", "status"];
// Typing waits this long for the next key before asking the server for the view.
const SEARCH_PAUSE_MS = 300;

export function mountAgents({ dispatch }) {
  const selects = Object.fromEntries(CHOSEN.map((name) => [name, document.getElementById(`filter-${name}`)]));
  for (const [name, select] of Object.entries(selects)) {
    select.addEventListener("change", () => dispatch({ type: "ui.filter", data: { name, value: select.value } }));
  }
  const search = document.getElementById("filter-search");
  let typing = null;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => dispatch({ type: "ui.filter", data: { name: "search", value: search.value } }), SEARCH_PAUSE_MS);
  });
  const previous = document.getElementById("agents-previous");
  const next = document.getElementById("agents-next");
  previous.addEventListener("click", () => dispatch({ type: "ui.page", data: { step: -1 } }));
  next.addEventListener("click", () => dispatch({ type: "ui.page", data: { step: 1 } }));

  function render(state, tickers) {
    if (!state.snapshot) return;
    fillFilters(selects, state);
    if (document.activeElement !== search && search.value !== state.filters.search) search.value = state.filters.search;
    const moves = pageMoves(state);
    previous.disabled = !moves.previous;
    next.disabled = !moves.next;
    const agents = state.snapshot.agents || [];
    tickers.clear();
    const label = pageLabel(state);
    document.getElementById("agent-count").textContent = label;
    document.getElementById("agent-rows").replaceChildren(
      ...(agents.length ? agents.map((agent) => agentRow(agent, state, tickers)) : [emptyRow(8, label)]),
    );
  }

  return { render };
}

/** Each filter's options from the snapshot, with the state's choice selected. */
function fillFilters(selects, state) {
  const options = filterOptions(state.snapshot);
  for (const [name, select] of Object.entries(selects)) {
    // Rebuilt only when the choices change, so that an open list is not closed under the
    // supervisor by every frame.
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
