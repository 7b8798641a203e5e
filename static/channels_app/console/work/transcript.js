// The active conversation's transcript and the "… is typing" line under it.
import { appendToLog, el, messageItem } from "../../../contactcenter/socket.js";
import { typingLabel } from "../labels.js";
import { customerTyping } from "../state.js";

/** Drawn whole once; later only new messages are appended (following the bottom if the agent
 * was there) and a message whose delivery changed is redrawn in place. */
export function transcriptView(item) {
  const log = el("ol", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Transcript" });
  const typingLine = el("p", { class: "typing muted", "aria-live": "polite" }, "");
  let shown = item.messages;
  let nodes = shown.map((message) => messageItem(message, "agent"));
  log.append(...nodes);

  function update(current, state, now) {
    if (current.messages !== shown) {
      nodes = current.messages.map((message, index) => {
        if (shown[index] === message) return nodes[index];
        const node = messageItem(message, "agent");
        if (shown[index] && shown[index].id === message.id) nodes[index].replaceWith(node);
        else appendToLog(log, node);
        return node;
      });
      shown = current.messages;
    }
    const typing = customerTyping(state, current.id, now) ? typingLabel(current.data.customer_name) : "";
    if (typingLine.textContent !== typing) typingLine.textContent = typing;
  }

  return { log, typingLine, update };
}
