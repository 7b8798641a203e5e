// What a supervisor can do from the tables: change an agent's status, raise a waiting item's
// priority, reassign an item to a queue or an agent. Each is a POST to the API; the next
// snapshot shows its effect, and an error shows above the tables.
import { csrfToken, el } from "../../contactcenter/socket.js";
import { raisedPriority, reassignBody, reassignTargets } from "./state.js";

export async function act(url, body) {
  const banner = document.getElementById("action-error");
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
export function statusControl(agent, statuses) {
  const select = el(
    "select",
    { "aria-label": `Status of ${agent.name}`, class: "status-select" },
    el("option", { value: "", selected: agent.status_id == null }, "Offline"),
    statuses.map((status) =>
      el("option", { value: String(status.id), selected: status.id === agent.status_id }, status.name),
    ),
  );
  select.addEventListener("change", () => {
    // Off the list, so that the snapshot held back while it was open can be drawn.
    select.blur();
    act(`/api/agents/${agent.id}/presence/`, {
      status_id: select.value ? Number(select.value) : null,
    });
  });
  return select;
}

/** Move a waiting item ahead of the others in its line. */
export function raiseButton(item) {
  const button = el(
    "button",
    { type: "button", class: "button button--quiet", "aria-label": `Raise priority of ${item.customer_name}` },
    "Raise",
  );
  button.addEventListener("click", () => {
    button.disabled = true;
    act(`/api/work-items/${item.work_item_id}/priority/`, { priority: raisedPriority(item.priority) });
  });
  return button;
}

/** Hand an item to another queue or to a signed-in agent who could take it. */
export function reassignControl(workItemId, customerName, data, holderId = null) {
  const { queues, agents } = reassignTargets(data, holderId);
  const select = el(
    "select",
    { "aria-label": `Reassign ${customerName}`, class: "reassign-select" },
    el("option", { value: "" }, "Reassign to…"),
    el(
      "optgroup",
      { label: "Queues" },
      queues.map((queue) => el("option", { value: `queue:${queue.id}` }, queue.name)),
    ),
    el(
      "optgroup",
      { label: "Agents" },
      agents.map((agent) => el("option", { value: `agent:${agent.id}` }, agent.name)),
    ),
  );
  select.addEventListener("change", () => {
    const body = reassignBody(select.value);
    if (!body) return;
    select.blur();
    select.disabled = true;
    act(`/api/work-items/${workItemId}/reassign/`, body).finally(() => {
      select.disabled = false;
      select.value = "";
    });
  });
  return select;
}
