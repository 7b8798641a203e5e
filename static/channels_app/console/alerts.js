// A new offer while the console's tab is hidden: a short tone and a desktop notification, as
// the agent's two switches in the top bar say (kept in this browser).
import { el } from "../../contactcenter/socket.js";

const ALERTS_KEY = "cc-console-alerts";

function alertSettings() {
  try {
    return { sound: true, notify: false, ...JSON.parse(localStorage.getItem(ALERTS_KEY) || "{}") };
  } catch {
    return { sound: true, notify: false };
  }
}

function saveAlertSettings(settings) {
  try {
    localStorage.setItem(ALERTS_KEY, JSON.stringify(settings));
  } catch {
    // Not kept across reloads, then.
  }
}

export function mountAlertToggles(bar) {
  const settings = alertSettings();
  const sound = el("input", { type: "checkbox", id: "alert-sound", checked: settings.sound });
  const notify = el("input", { type: "checkbox", id: "alert-notify", checked: settings.notify });
  sound.addEventListener("change", () => saveAlertSettings({ ...alertSettings(), sound: sound.checked }));
  notify.addEventListener("change", async () => {
    if (notify.checked && "Notification" in window && Notification.permission !== "granted") {
      const answer = await Notification.requestPermission();
      if (answer !== "granted") notify.checked = false;
    }
    saveAlertSettings({ ...alertSettings(), notify: notify.checked });
  });
  bar.append(
    el("label", { class: "toggle", for: "alert-sound" }, sound, " Sound"),
    el("label", { class: "toggle", for: "alert-notify" }, notify, " Notifications"),
  );
}

let audio = null;

function playTone() {
  try {
    audio = audio || new AudioContext();
    const tone = audio.createOscillator();
    const volume = audio.createGain();
    volume.gain.value = 0.08;
    tone.frequency.value = 880;
    tone.connect(volume).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.25);
  } catch {
    // No audio output: the notification and the page still show the offer.
  }
}

export function alertNewOffer(data) {
  if (!document.hidden) return;
  const settings = alertSettings();
  if (settings.sound) playTone();
  if (settings.notify && "Notification" in window && Notification.permission === "granted") {
    const note = new Notification(`New offer: ${data.customer_name}`, {
      body: `${data.channel} · ${data.queue}${data.preview ? ` — ${data.preview}` : ""}`,
      tag: `offer-${data.offer_id}`,
    });
    note.onclick = () => {
      window.focus();
      note.close();
    };
  }
}
