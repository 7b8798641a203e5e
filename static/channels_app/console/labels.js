// The console's words for its data, so that the panels and the tests agree on them. Pure.
import { formatDuration, secondsSince } from "../../contactcenter/format.js";

export function statusTimeLabel(agent, now) {
  const name = agent.status_name || "Offline";
  return agent.status_since ? `${name} for ${formatDuration(secondsSince(agent.status_since, now))}` : name;
}

export function capacityLabel(agent) {
  return `Capacity: ${agent.used_units}/${agent.capacity}`;
}

export function capacityFull(agent) {
  return agent.used_units >= agent.capacity;
}

export function offerCountdownLabel(secondsLeft) {
  return secondsLeft > 0 ? `Expires in ${secondsLeft}s` : "Expired";
}

export function wrapUpLabel(secondsLeft) {
  return `Wrap-up: ${formatDuration(secondsLeft)} left before new work`;
}

export function earlierSummary(count) {
  return `Earlier in this case (${count} conversation${count === 1 ? "" : "s"})`;
}

export function typingLabel(customerName) {
  return `${customerName} is typing…`;
}
