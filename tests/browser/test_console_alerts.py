"""A new offer while the console's tab is hidden: a tone and a desktop notification, as the
agent's switches say. Only the browser's own APIs (visibility, Notification, AudioContext)
are stood in for, since a headless browser has no screen to hide or speaker to play on."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_chat_in_browser import VIEWPORT, log_in, start_visitor_chat

pytestmark = pytest.mark.browser

HIDDEN_TAB_WITH_RECORDING_APIS = """
Object.defineProperty(document, "hidden", { get: () => window.__hidden === true });
window.__notifications = [];
window.__tones = 0;
window.Notification = class {
  static permission = "granted";
  static requestPermission() { return Promise.resolve("granted"); }
  constructor(title, options) { window.__notifications.push({ title, body: options.body }); }
  close() {}
};
window.AudioContext = class {
  constructor() { this.currentTime = 0; this.destination = {}; }
  createOscillator() {
    return { frequency: {}, connect: (node) => node, start: () => { window.__tones += 1; },
             stop: () => {} };
  }
  createGain() { return { gain: {}, connect: (node) => node }; }
};
"""


def test_an_offer_to_a_hidden_tab_rings_and_notifies(server_url, browser) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    visitor_context = browser.new_context(viewport=VIEWPORT)
    try:
        context.add_init_script(HIDDEN_TAB_WITH_RECORDING_APIS)
        agent = context.new_page()
        log_in(agent, server_url, "agent03", "agent-demo", "/console/")
        expect(agent.get_by_text("Connected", exact=True)).to_be_visible()
        expect(agent.get_by_label("Sound")).to_be_checked()
        agent.get_by_label("Notifications").check()
        agent.get_by_label("Presence").select_option(label="Available")
        expect(agent.locator("#capacity")).to_contain_text("0/6")
        agent.evaluate("window.__hidden = true")

        visitor = visitor_context.new_page()
        start_visitor_chat(
            visitor, server_url, "Hana Hidden", "hana@example.com", "I want an agent please"
        )
        expect(agent.get_by_role("region", name="Offers")).to_contain_text("Hana Hidden")
        assert agent.evaluate("window.__tones") == 1
        notes = agent.evaluate("window.__notifications")
        assert notes[0]["title"] == "New offer: Hana Hidden"

        # Switched off, and kept off after a reload.
        agent.get_by_label("Sound").uncheck()
        agent.reload()
        expect(agent.get_by_label("Sound")).not_to_be_checked()
        expect(agent.get_by_label("Notifications")).to_be_checked()
    finally:
        context.close()
        visitor_context.close()
