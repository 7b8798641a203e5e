// What the agent knows of the customer beyond this conversation: the case's earlier
// conversations, and the customer 360 (profile they can edit, contact points, cases and every
// interaction on every channel) read from the API when opened.
import { csrfToken, el, messageItem } from "../../../contactcenter/socket.js";
import { earlierSummary } from "../labels.js";

/** The case's conversations before this one (a chat before this call, an email before this chat). */
export function earlierConversations(conversations) {
  if (!conversations.length) return null;
  return el(
    "details",
    { class: "earlier" },
    el("summary", {}, earlierSummary(conversations.length)),
    conversations.map((conversation) =>
      el(
        "section",
        { class: "earlier__conversation", "aria-label": `Earlier ${conversation.channel}` },
        el("h3", {}, `${conversation.channel} · ${new Date(conversation.started_at).toLocaleString()}`),
        el(
          "ol",
          { class: "log log--earlier" },
          conversation.messages.map((message) => messageItem(message, "agent")),
        ),
      ),
    ),
  );
}

/** Loaded the first time it opens; after a failure, the next opening tries again. */
export function customerHistory(data) {
  const body = el("div", { class: "history" }, "Loading…");
  const details = el(
    "details",
    { class: "earlier customer360" },
    el("summary", {}, "Customer 360 (profile, cases, all channels)"),
    body,
  );
  let loaded = false;
  details.addEventListener("toggle", async () => {
    if (!details.open || loaded) return;
    loaded = true;
    try {
      body.replaceChildren(...timelineParts(await fetchTimeline(data.customer_id)));
    } catch (error) {
      loaded = false;
      body.replaceChildren("The customer could not be loaded. Close and open this to try again.");
    }
  });
  return details;
}

async function fetchTimeline(customerId) {
  const response = await fetch(`/api/customers/${customerId}/timeline/`, {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  if (!response.ok) throw new Error(String(response.status));
  return response.json();
}

function timelineParts(timeline) {
  const points = timeline.customer.contact_points.map((point) => `${point.kind} ${point.value}`);
  return [
    profileForm(timeline.customer),
    el("p", { class: "history__meta" }, "Contact points: ", points.join(" · ") || "none"),
    el(
      "ul",
      { class: "history__list", "aria-label": "Cases" },
      timeline.cases.map((c) =>
        el("li", { class: "history__item" }, `Case ${c.number} · ${c.status} · ${c.subject || "(no subject)"}`),
      ),
    ),
    timelineList(timeline.interactions),
  ];
}

function timelineList(interactions) {
  if (!interactions.length) return el("p", {}, "No earlier contacts.");
  return el(
    "ul",
    { class: "history__list", "aria-label": "Timeline" },
    interactions.map((interaction) => {
      const first = interaction.messages.find((message) => message.sender === "customer");
      return el(
        "li",
        { class: "history__item" },
        el(
          "span",
          { class: "history__meta" },
          `${new Date(interaction.started_at).toLocaleString()} · ${interaction.channel} · `,
          `Case ${interaction.case.number} · ${interaction.status}`,
          interaction.agents.length ? ` · ${interaction.agents.join(", ")}` : "",
        ),
        first ? el("span", { class: "history__text" }, first.body) : null,
      );
    }),
  );
}

const PROFILE_FIELDS = ["name", "tier", "language", "notes"];

/** Name, tier, language and notes, saved through the API. */
function profileForm(customer) {
  const fields = {
    name: el("input", { id: "customer-name", value: customer.name, maxlength: "120" }),
    tier: el("input", { id: "customer-tier", value: customer.tier, maxlength: "40" }),
    language: el("input", { id: "customer-language", value: customer.language, maxlength: "16" }),
    notes: el("textarea", { id: "customer-notes", rows: "3", maxlength: "10000" }),
  };
  fields.notes.value = customer.notes || "";
  const saved = el("span", { class: "muted", role: "status" }, "");
  const form = el(
    "form",
    { class: "profile" },
    PROFILE_FIELDS.map((field) =>
      el(
        "div",
        { class: "field" },
        el("label", { for: `customer-${field}` }, field[0].toUpperCase() + field.slice(1)),
        fields[field],
      ),
    ),
    el("button", { type: "submit", class: "button" }, "Save customer"),
    saved,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    saved.textContent = "Saving…";
    const changes = Object.fromEntries(Object.entries(fields).map(([key, input]) => [key, input.value]));
    saved.textContent = await saveCustomer(customer.id, changes);
  });
  return form;
}

async function saveCustomer(customerId, changes) {
  try {
    const response = await fetch(`/api/customers/${customerId}/`, {
      method: "PATCH",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(changes),
    });
    const answer = await response.json();
    return response.ok ? "Saved." : `Not saved: ${answer.error || response.status}`;
  } catch (error) {
    return "Not saved: the server could not be reached.";
  }
}
