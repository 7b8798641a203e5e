"""The supervisor's dashboard in real Chromium against a real Daphne: the server's filters,
search and pages, a reassignment that the agents' consoles follow live, and an alert shown in
the page and as a desktop notification. Only the browser's Notification API is stood in for
(a headless browser has no desktop to show it on)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_chat_in_browser import (
    DOCS,
    SCREENSHOTS,
    VIEWPORT,
    log_in,
    start_visitor_chat,
)
from tests.browser.test_console_day import go_available

pytestmark = pytest.mark.browser

RECORDING_NOTIFICATIONS = """
window.__notifications = [];
window.Notification = class {
  static permission = "granted";
  static requestPermission() { return Promise.resolve("granted"); }
  constructor(title, options) { window.__notifications.push({ title, body: options.body }); }
  close() {}
};
"""


def test_a_supervisor_reassigns_a_chat_and_the_consoles_follow(server_url, browser) -> None:
    staff = browser.new_context(viewport=VIEWPORT)
    first_desk = browser.new_context(viewport=VIEWPORT)
    second_desk = browser.new_context(viewport=VIEWPORT)
    supervisor_desk = browser.new_context(viewport={"width": 1400, "height": 900})
    visitor_context = browser.new_context(viewport=VIEWPORT)
    try:
        first = first_desk.new_page()
        log_in(first, server_url, "agent01", "agent-demo", "/console/")
        go_available(first)
        visitor = visitor_context.new_page()
        start_visitor_chat(
            visitor, server_url, "Rosa Reassign", "rosa@example.com", "I want an agent please"
        )
        offers = first.get_by_role("region", name="Offers")
        expect(offers).to_contain_text("Rosa Reassign")
        offers.get_by_role("button", name="Accept").click()
        expect(first.get_by_role("tab", name="Rosa Reassign")).to_be_visible()

        second = second_desk.new_page()
        log_in(second, server_url, "agent02", "agent-demo", "/console/")
        go_available(second)

        supervisor_desk.add_init_script(RECORDING_NOTIFICATIONS)
        supervisor = supervisor_desk.new_page()
        log_in(supervisor, server_url, "supervisor", "supervisor-demo", "/supervisor/")
        agents = supervisor.get_by_role("table", name="Agents")
        expect(agents).to_contain_text("Rosa Reassign")
        queues = supervisor.get_by_role("table", name="Queues: now and today")
        web_chat = queues.get_by_role("row").filter(has_text="Web chat")
        # Offered and handled today: Rosa's chat, answered within the service-level time.
        expect(web_chat.get_by_role("cell").nth(3)).to_have_text("1")
        expect(web_chat.get_by_role("cell").nth(4)).to_have_text("1")
        expect(web_chat).to_contain_text("100% (80%)")

        # The server filters and pages: the whole floor fits on one page, then only the
        # available agents, one team, and a search by name.
        count = supervisor.locator("#agent-count")
        expect(count).to_have_text("12 agents")
        expect(supervisor.get_by_role("button", name="Next")).to_be_disabled()
        expect(supervisor.get_by_role("button", name="Previous")).to_be_disabled()
        supervisor.get_by_label("Status", exact=True).select_option(label="Available")
        expect(count).to_have_text("2 agents")
        expect(agents).to_contain_text("Ada Lovelace")
        expect(agents).to_contain_text("Grace Hopper")
        supervisor.get_by_label("Status", exact=True).select_option(label="All")
        expect(count).to_have_text("12 agents")
        supervisor.get_by_label("Team").select_option(label="Team South")
        expect(agents).not_to_contain_text("Ada Lovelace")
        supervisor.get_by_label("Team").select_option(label="All")
        supervisor.get_by_label("Search").fill("hopp")
        expect(count).to_have_text("1 agent")
        expect(agents).to_contain_text("Grace Hopper")
        expect(agents).not_to_contain_text("Ada Lovelace")
        supervisor.get_by_label("Search").fill("nobody by that name")
        expect(count).to_have_text("No agent matches the filters.")
        supervisor.get_by_label("Search").fill("")
        expect(count).to_have_text("12 agents")

        # The supervisor hands Rosa's chat to Grace: Ada's console lets go of it, Grace is
        # offered it with the whole conversation.
        supervisor.get_by_label("Reassign Rosa Reassign").select_option(label="Grace Hopper")
        second_offers = second.get_by_role("region", name="Offers")
        expect(second_offers).to_contain_text("Rosa Reassign")
        expect(first.get_by_role("tab", name="Rosa Reassign")).to_have_count(0)
        second_offers.get_by_role("button", name="Accept").click()
        transcript = second.get_by_role("log", name="Transcript")
        expect(transcript).to_contain_text("I want an agent please")
        expect(transcript).to_contain_text("Reassigned by Sam Supervisor.")
        grace = agents.get_by_role("row").filter(
            has=supervisor.get_by_role("rowheader", name="Grace Hopper")
        )
        expect(grace).to_contain_text("Rosa Reassign")

        # A break longer than its limit raises an alert in the page and on the desktop.
        admin = staff.new_page()
        log_in(admin, server_url, "admin", "admin-demo", "/admin/")
        admin.goto(f"{server_url}/admin/routing/presencestatus/")
        admin.get_by_role("link", name="Break", exact=True).click()
        admin.get_by_label("Alert after seconds").fill("1")
        admin.get_by_role("button", name="Save", exact=True).click()
        expect(admin.get_by_text("was changed successfully")).to_be_visible()
        supervisor.get_by_label("Status of Ada Lovelace").select_option(label="Break")
        expect(first.get_by_label("Presence")).to_have_value(
            first.get_by_label("Presence")
            .locator("option", has_text="Break")
            .get_attribute("value")
        )
        alert = "Ada Lovelace has been in Break for over 0:01."
        expect(supervisor.locator("#alert-list")).to_contain_text(alert, timeout=15_000)
        notes = supervisor.evaluate("window.__notifications")
        assert [note["body"] for note in notes].count(alert) == 1
        if SCREENSHOTS:
            DOCS.mkdir(exist_ok=True)
            supervisor.screenshot(path=str(DOCS / "supervisor.png"), full_page=True)
    finally:
        staff.close()
        first_desk.close()
        second_desk.close()
        supervisor_desk.close()
        visitor_context.close()
