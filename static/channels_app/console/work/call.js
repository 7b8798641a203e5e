// Calls: the line with the live call's timer, and the form that moves a text conversation to
// a call (the call comes back to this agent once placed).
import { el } from "../../../contactcenter/socket.js";
import { formatDuration, secondsSince } from "../../../contactcenter/format.js";
import { callFrame } from "../outgoing.js";

/** "On a call with …" and the time since the call was accepted. */
export function onCallLine(data) {
  const timer = el("span", { class: "call__timer", role: "timer" }, "");
  const node = el("p", { class: "call" }, `On a call with ${data.customer_address || data.customer_name} · `, timer);
  const since = data.accepted_at || data.started_at;
  function tick(now) {
    timer.textContent = since ? formatDuration(secondsSince(since, now)) : "";
  }
  return { node, tick };
}

export function callCustomerForm(data, { send }) {
  const phone = el("input", {
    id: "call-phone",
    name: "phone",
    type: "tel",
    autocomplete: "off",
    placeholder: "Customer's number, if not on file",
  });
  const button = el("button", { type: "submit", class: "button" }, "Call customer");
  const form = el(
    "form",
    { class: "call-form" },
    el("label", { for: "call-phone" }, "Call the customer"),
    el("div", { class: "composer__row" }, phone, button),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (send("work.call", callFrame(data.work_item_id, phone.value))) phone.value = "";
  });
  return form;
}
