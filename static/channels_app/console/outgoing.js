// The frames the console sends that take a decision first: which fields a choice in a list
// becomes, what is missing before a frame may go, and when to tell the customer we type. Pure.

/** How often, at most, `work.typing` repeats while the agent keeps typing. */
export const TYPING_REPEAT_MS = 3000;

export function declineFrame(offerId, reasonValue) {
  const frame = { offer_id: offerId };
  if (reasonValue) frame.reason_id = Number(reasonValue);
  return frame;
}

/** {frame} for `work.close`, or {error} when a disposition is required and none is chosen. */
export function closeFrame(workItemId, dispositionValue, dispositionsConfigured) {
  const chosen = dispositionValue ? Number(dispositionValue) : null;
  if (dispositionsConfigured && chosen === null) {
    return { error: "Choose how the conversation ended before closing it." };
  }
  const frame = { work_item_id: workItemId };
  if (chosen !== null) frame.disposition_id = chosen;
  return { frame };
}

const TRANSFER_FIELDS = { queue: "queue_id", agent: "agent_id", skill: "skill_id" };

/** {frame} for `work.transfer` from a "queue:3" / "agent:7" / "skill:2" choice, or {error}. */
export function transferFrame(workItemId, targetValue, note) {
  const [kind, id] = targetValue.split(":");
  const field = TRANSFER_FIELDS[kind];
  if (!id || !field) return { error: "Choose where to transfer the conversation." };
  return { frame: { work_item_id: workItemId, [field]: Number(id), note: note.trim() } };
}

export function callFrame(workItemId, phone) {
  return { work_item_id: workItemId, phone: phone.trim() };
}

export const NOT_TYPING = Object.freeze({ workItemId: null, sentAt: 0 });

/**
 * The agent typed in the reply box of a chat. `own` is what was last told ({workItemId,
 * sentAt}); returns {own, typing}: typing true or false is the `work.typing` to send, null none.
 * "Typing" repeats at most every TYPING_REPEAT_MS; an emptied box stops it.
 */
export function typingAfterInput(own, workItemId, text, now) {
  if (!text.trim()) return typingAfterStop(own, workItemId);
  if (own.workItemId === workItemId && now - own.sentAt < TYPING_REPEAT_MS) return { own, typing: null };
  return { own: { workItemId, sentAt: now }, typing: true };
}

/** The agent stopped (sent, left the box, switched to a note): "stopped" only if we said "typing". */
export function typingAfterStop(own, workItemId) {
  if (own.workItemId !== workItemId) return { own, typing: null };
  return { own: NOT_TYPING, typing: false };
}
