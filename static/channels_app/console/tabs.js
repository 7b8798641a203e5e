// The conversation tabs: one per work item, named exactly the customer's name, with the
// unread dot; arrow keys, Home and End move between them.
import { el } from "../../contactcenter/socket.js";
import { tabAfterKey } from "./state.js";

export function mountTabs({ dispatch, getState }) {
  const tabList = document.getElementById("tabs");
  const empty = document.getElementById("tabs-empty");
  let shownKey = null;

  const activate = (id, focusTab) => dispatch({ type: "ui.activate", data: { work_item_id: id } }, { focusTab });

  tabList.addEventListener("keydown", (event) => {
    const id = tabAfterKey(getState(), event.key);
    if (id === null) return;
    event.preventDefault();
    activate(id, true);
  });

  /** Redrawn only when a name, a marker or the active tab changes; the focus stays on the
   * tab list when it was there, and moves to the active tab when asked (keyboard moves). */
  function render(state, now, { focusTab = false } = {}) {
    const key = JSON.stringify(
      state.items.map((item) => [item.id, item.data.customer_name, item.unread, item.id === state.activeId]),
    );
    const hadFocus = tabList.contains(document.activeElement);
    const redrawn = key !== shownKey;
    if (redrawn) {
      shownKey = key;
      tabList.replaceChildren(...state.items.map((item) => tab(item, item.id === state.activeId, activate)));
      empty.hidden = state.items.length > 0;
    }
    if (focusTab || (redrawn && hadFocus)) {
      const current = document.getElementById(`tab-${state.activeId}`);
      if (current) current.focus();
    }
  }

  return { render };
}

function tab(item, active, activate) {
  return el(
    "button",
    {
      type: "button",
      role: "tab",
      id: `tab-${item.id}`,
      class: "tab",
      "aria-selected": String(active),
      "aria-controls": "work",
      "aria-describedby": item.unread ? "unread-hint" : null,
      tabindex: active ? "0" : "-1",
      "data-unread": String(item.unread),
      onclick: () => activate(item.id, false),
    },
    el("span", { class: "tab__name" }, item.data.customer_name),
    el("span", { class: "tab__dot", "aria-hidden": "true" }),
  );
}
