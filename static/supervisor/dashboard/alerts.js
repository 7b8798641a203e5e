// Alerts: listed in the page and, for the ones new to this supervisor (state.freshAlerts), shown
// as desktop notifications when the browser allows. When each alert was last seen is kept for
// the browser tab (sessionStorage), so a reload does not notify again.
import { el } from "../../contactcenter/socket.js";

const SEEN_KEY = "supervisor.notified";

/** [[alert id, last seen]] kept by an earlier page in this tab. */
export function storedAlertsSeen() {
  try {
    const entries = JSON.parse(sessionStorage.getItem(SEEN_KEY) || "[]");
    return entries.filter((entry) => Array.isArray(entry) && entry.length === 2);
  } catch {
    return [];
  }
}

export function mountAlerts() {
  const list = document.getElementById("alert-list");
  const button = document.getElementById("enable-notifications");
  const permission = document.getElementById("notification-state");

  function showPermission() {
    if (!("Notification" in window)) {
      permission.textContent = "This browser cannot show notifications.";
      return;
    }
    button.hidden = Notification.permission !== "default";
    permission.textContent =
      {
        granted: "Alerts also appear as notifications.",
        denied: "Notifications are blocked for this site.",
        default: "",
      }[Notification.permission] || "";
  }
  button.addEventListener("click", async () => {
    await Notification.requestPermission();
    showPermission();
  });
  showPermission();

  function render(state) {
    const alerts = state.snapshot.alerts || [];
    list.replaceChildren(
      ...(alerts.length
        ? alerts.map((alert) => el("li", { "data-kind": alert.kind, "data-alert-id": alert.id }, alert.text))
        : [el("li", { class: "muted" }, "No alerts.")]),
    );
  }

  /** After each snapshot, drawn or held back: a notification must not wait for the page. */
  function notify(state) {
    if ("Notification" in window && Notification.permission === "granted") {
      for (const alert of state.freshAlerts) {
        new Notification("Contact center alert", { body: alert.text, tag: alert.id });
      }
    }
    try {
      sessionStorage.setItem(SEEN_KEY, JSON.stringify(state.alertsSeen));
    } catch {
      // Not kept across reloads, then: an alert may notify once more after one.
    }
  }

  return { render, notify };
}
