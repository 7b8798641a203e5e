// Ending a conversation: the disposition and Close in the panel's head, and after the close
// the wrap-up countdown (the configured after-contact time still holds capacity).
import { el } from "../../../contactcenter/socket.js";
import { wrapUpLabel } from "../labels.js";
import { closeFrame } from "../outgoing.js";
import { wrapUpSecondsLeft } from "../state.js";

/** Close stays disabled while the close is on its way (the state's `closing`). */
export function closeControls(data, dispositions, { dispatch, send, showError }) {
  const closeButton = el("button", { type: "button", class: "button button--danger" }, "Close");
  const disposition = el(
    "select",
    { id: "disposition", "aria-label": "Disposition" },
    el("option", { value: "" }, "How did it end?"),
    dispositions.map((option) => el("option", { value: option.id }, option.name)),
  );
  closeButton.addEventListener("click", () => {
    const { frame, error } = closeFrame(data.work_item_id, disposition.value, dispositions.length > 0);
    if (error) {
      showError(error);
      disposition.focus();
      return;
    }
    dispatch({ type: "ui.closing", data: { work_item_id: data.work_item_id } });
    if (!send("work.close", frame)) dispatch({ type: "ui.close-unsent", data: { work_item_id: data.work_item_id } });
  });
  const node = el("div", { class: "work__close" }, dispositions.length ? disposition : null, closeButton);
  return {
    node,
    update(item) {
      closeButton.disabled = item.closing;
    },
  };
}

/** The "Wrap-up: 0:42 left before new work" line, hidden when there is none. */
export function mountWrapUpLine() {
  const line = document.getElementById("wrap-up");
  function render(state, now) {
    const left = wrapUpSecondsLeft(state, now);
    line.hidden = left <= 0;
    if (left > 0) line.textContent = wrapUpLabel(left);
  }
  return { render };
}
