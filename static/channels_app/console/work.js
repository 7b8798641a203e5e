// The work panel: the active conversation only (one "Reply", one "Send", one "Close").
// Built anew when another conversation becomes active or its data changes (an assignment, a
// snapshot); otherwise its parts are updated in place, so that what the agent is doing in it
// (a list left open, a file chosen, the caret in the reply) is not disturbed by a new message.
import { el } from "../../contactcenter/socket.js";
import { activeItem } from "./state.js";
import { onCallLine, callCustomerForm } from "./work/call.js";
import { composerView } from "./work/composer.js";
import { customerHistory, earlierConversations } from "./work/customer.js";
import { transcriptView } from "./work/transcript.js";
import { transferForm } from "./work/transfer.js";
import { closeControls } from "./work/wrapup.js";

export function mountWork(ctx) {
  const work = document.getElementById("work");
  let panel = null; // {item, dispositions, canned, targets, parts} of what is drawn
  let empty = false;

  function render(state, now) {
    const item = activeItem(state);
    if (!item) {
      if (!empty) showEmpty(work);
      panel = null;
      empty = true;
      return;
    }
    empty = false;
    if (!panel || outdated(panel, item, state)) {
      panel = { item, dispositions: state.dispositions, canned: state.canned, targets: state.targets };
      panel.parts = buildPanel(work, item, state, ctx);
    }
    const { transcript, composer, closing, call } = panel.parts;
    transcript.update(item, state, now);
    composer.update(item);
    closing.update(item);
    if (call) call.tick(now);
  }

  return { render };
}

function outdated(panel, item, state) {
  return (
    panel.item.id !== item.id ||
    panel.item.data !== item.data ||
    panel.dispositions !== state.dispositions ||
    panel.canned !== state.canned ||
    panel.targets !== state.targets
  );
}

function showEmpty(work) {
  work.removeAttribute("role");
  work.removeAttribute("aria-labelledby");
  work.replaceChildren(el("p", { class: "work__empty muted" }, "Accept an offer to start a conversation."));
}

function buildPanel(work, item, state, ctx) {
  const data = item.data;
  const isCall = data.channel === "voice";
  const transcript = transcriptView(item);
  const composer = composerView(item, state, ctx);
  const closing = closeControls(data, state.dispositions, ctx);
  const call = isCall ? onCallLine(data) : null;
  work.setAttribute("role", "tabpanel");
  work.setAttribute("aria-labelledby", `tab-${data.work_item_id}`);
  // Without the parts this item has none of (null): replaceChildren would print "null".
  const parts = [
    panelHead(data, closing.node),
    call && call.node,
    earlierConversations(data.earlier || []),
    customerHistory(data),
    transcript.log,
    transcript.typingLine,
    composer.form,
    el(
      "div",
      { class: "work__actions" },
      isCall ? null : callCustomerForm(data, ctx),
      transferForm(data, state.targets, ctx),
    ),
  ];
  work.replaceChildren(...parts.filter(Boolean));
  transcript.log.scrollTop = transcript.log.scrollHeight;
  return { transcript, composer, closing, call };
}

/** Who, about what, on which case, channel and queue; and the way to close it. */
function panelHead(data, closeNode) {
  return el(
    "header",
    { class: "work__head" },
    el(
      "div",
      {},
      el("h2", {}, data.customer_name),
      data.subject ? el("p", { class: "work__subject" }, `Subject: ${data.subject}`) : null,
      el(
        "p",
        { class: "muted" },
        data.customer_email,
        data.claimed_email ? `says ${data.claimed_email} (unverified)` : "",
        " · Case ",
        data.case_number,
        " · ",
        `${data.channel} · ${data.queue}`,
      ),
    ),
    closeNode,
  );
}
