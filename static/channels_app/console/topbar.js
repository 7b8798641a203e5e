// The console's top bar: presence, capacity, time in status, connection.
import { el } from "../../contactcenter/socket.js";
import { connectionLabel } from "../../contactcenter/format.js";
import { capacityFull, capacityLabel, statusTimeLabel } from "./labels.js";

export function mountTopBar({ dispatch, send }) {
  const $ = (id) => document.getElementById(id);
  const presence = $("presence");
  const capacity = $("capacity");
  const statusTime = $("status-time");
  const connection = $("connection");
  let shown = {};

  presence.addEventListener("change", () => {
    const statusId = Number(presence.value);
    if (!statusId) return;
    dispatch({ type: "ui.presence", data: { status_id: statusId } });
    if (!send("presence.set", { status_id: statusId })) dispatch({ type: "ui.presence-unsent" });
  });

  function render(state, now) {
    const { agent, statuses, presencePending, connection: link } = state;
    if (agent && (agent !== shown.agent || statuses !== shown.statuses || presencePending !== shown.presencePending)) {
      renderPresence(presence, agent, statuses, presencePending);
      capacity.textContent = capacityLabel(agent);
      capacity.dataset.full = String(capacityFull(agent));
    }
    if (agent) statusTime.textContent = statusTimeLabel(agent, now);
    if (link !== shown.link) {
      connection.textContent = connectionLabel(link.status, link.code, "Not allowed to use the console");
      connection.dataset.state = link.status;
    }
    presence.disabled = link.status !== "connected" || !statuses.length;
    shown = { agent, statuses, presencePending, link };
  }

  return { render };
}

/** The agent's statuses, with what they are in now (or just chose) selected. Offline is no
 * status: a disabled placeholder; a status the list lacks (retired meanwhile) is shown too. */
function renderPresence(select, agent, statuses, pending) {
  const current = pending ?? agent.status_id;
  const options = [];
  if (current == null) {
    options.push(el("option", { value: "", disabled: true, selected: true }, "Offline"));
  }
  if (agent.status_id != null && !statuses.some((status) => status.id === agent.status_id)) {
    options.push(el("option", { value: agent.status_id, selected: current === agent.status_id }, agent.status_name));
  }
  for (const status of statuses) {
    options.push(el("option", { value: status.id, selected: status.id === current }, status.name));
  }
  select.replaceChildren(...options);
  select.value = current == null ? "" : String(current);
}
