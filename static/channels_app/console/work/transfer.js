// Hand the conversation to a queue, a colleague or a skill, with a note for them.
import { el } from "../../../contactcenter/socket.js";
import { transferFrame } from "../outgoing.js";

export function transferForm(data, targets, { send, showError }) {
  const group = (label, kind, choices) =>
    el("optgroup", { label }, choices.map((choice) => el("option", { value: `${kind}:${choice.id}` }, choice.name)));
  const target = el(
    "select",
    { id: "transfer-target" },
    el("option", { value: "" }, "Choose…"),
    group("Queues", "queue", targets.queues),
    group("Agents", "agent", targets.agents),
    group("Skills", "skill", targets.skills),
  );
  const note = el("input", { id: "transfer-note", type: "text", maxlength: "1000" });
  note.placeholder = "Note for whoever takes it";
  const form = el(
    "form",
    { class: "transfer-form" },
    el("label", { for: "transfer-target" }, "Transfer to"),
    el(
      "div",
      { class: "composer__row" },
      target,
      el("label", { for: "transfer-note", class: "visually-hidden" }, "Transfer note"),
      note,
      el("button", { type: "submit", class: "button" }, "Transfer"),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const { frame, error } = transferFrame(data.work_item_id, target.value, note.value);
    if (error) {
      showError(error);
      target.focus();
      return;
    }
    send("work.transfer", frame);
  });
  return form;
}
