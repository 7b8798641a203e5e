// The offers panel: one card per offer, with its countdown, how long the customer waited, and
// Accept / Decline (with a reason when the admin configured any).
import { el } from "../../contactcenter/socket.js";
import { formatDuration, secondsSince } from "../../contactcenter/format.js";
import { offerCountdownLabel } from "./labels.js";
import { declineFrame } from "./outgoing.js";
import { offerLocked, offerSecondsLeft } from "./state.js";

export function mountOffers({ dispatch, send }) {
  const list = document.getElementById("offer-list");
  const empty = document.getElementById("offers-empty");
  // offer_id → its card. A card is kept while its offer is (a reason chosen in it stays);
  // a snapshot's fresh copy of the offer gets a fresh card.
  const cards = new Map();

  function answer(offerId, type, frame) {
    dispatch({ type: "ui.answer", data: { offer_id: offerId } });
    if (!send(type, frame)) dispatch({ type: "ui.answer-unsent", data: { offer_id: offerId } });
  }

  function cardFor(offer, reasons) {
    const known = cards.get(offer.data.offer_id);
    if (known && known.data === offer.data && known.reasons === reasons) return known;
    const card = offerCard(offer.data, reasons, answer);
    cards.set(offer.data.offer_id, card);
    return card;
  }

  function render(state, now) {
    const shown = state.offers.map((offer) => [offer, cardFor(offer, state.declineReasons)]);
    const ids = new Set(state.offers.map((offer) => offer.data.offer_id));
    for (const id of cards.keys()) if (!ids.has(id)) cards.delete(id);
    const nodes = shown.map(([, card]) => card.node);
    if (nodes.length !== list.children.length || nodes.some((node, index) => list.children[index] !== node)) {
      list.replaceChildren(...nodes);
    }
    empty.hidden = state.offers.length > 0;
    for (const [offer, card] of shown) updateCard(card, offer, now);
  }

  /** Alt+A. */
  function accept(offerId) {
    const card = cards.get(offerId);
    if (card) card.accept.click();
  }

  /** Alt+D: a reason is needed first when any are configured, so take the agent to the list. */
  function decline(offerId) {
    const card = cards.get(offerId);
    if (!card) return;
    if (card.reasons.length && !card.reason.value) card.reason.focus();
    else card.decline.click();
  }

  return { render, accept, decline };
}

function offerCard(data, reasons, answer) {
  const countdown = el("p", { class: "offer__countdown" });
  const waited = el("span");
  const accept = el("button", { type: "button", class: "button button--primary" }, "Accept");
  const decline = el("button", { type: "button", class: "button" }, "Decline");
  const reason = el(
    "select",
    { class: "offer__reason", "aria-label": "Reason for declining" },
    el("option", { value: "" }, "Reason…"),
    ...reasons.map((r) => el("option", { value: String(r.id) }, r.name)),
  );
  accept.addEventListener("click", () => answer(data.offer_id, "offer.accept", { offer_id: data.offer_id }));
  decline.addEventListener("click", () =>
    answer(data.offer_id, "offer.decline", declineFrame(data.offer_id, reason.value)),
  );
  const node = el(
    "article",
    { class: "offer", "aria-label": `Offer from ${data.customer_name}` },
    el("h3", { class: "offer__customer" }, data.customer_name),
    el("p", { class: "offer__meta" }, `${data.channel} · ${data.queue}`),
    data.preview ? el("blockquote", { class: "offer__preview" }, data.preview) : null,
    el("p", { class: "offer__meta" }, "Waited ", waited),
    countdown,
    el("div", { class: "offer__actions" }, accept, reasons.length ? reason : null, decline),
  );
  return { data, reasons, node, countdown, waited, accept, decline, reason };
}

function updateCard(card, offer, now) {
  const left = offerSecondsLeft(offer, now);
  card.countdown.textContent = offerCountdownLabel(left);
  card.node.dataset.expired = String(left === 0);
  card.waited.textContent = formatDuration(secondsSince(offer.data.waiting_since, now));
  const locked = offerLocked(offer, now);
  for (const button of [card.accept, card.decline, card.reason]) button.disabled = locked;
}
