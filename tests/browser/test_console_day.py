"""A working day's moves in the agent console, in real Chromium against a real Daphne: two
agents and a visitor; a decline, an accept, a reply, a reload that keeps everything, a
transfer to a queue with a note, a close with a disposition and wrap-up, and a status change
made by someone else showing live."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_chat_in_browser import (
    DOCS,
    SCREENSHOTS,
    VIEWPORT,
    log_in,
    start_visitor_chat,
)

pytestmark = pytest.mark.browser


def go_available(page: Page) -> None:
    expect(page.get_by_text("Connected", exact=True)).to_be_visible()
    page.get_by_label("Presence").select_option(label="Available")
    expect(page.locator("#capacity")).to_contain_text("0/6")


def test_decline_accept_reload_transfer_and_close_with_wrap_up(server_url, browser) -> None:
    staff = browser.new_context(viewport=VIEWPORT)
    first_desk = browser.new_context(viewport=VIEWPORT)
    second_desk = browser.new_context(viewport=VIEWPORT)
    supervisor_desk = browser.new_context(viewport=VIEWPORT)
    visitor_context = browser.new_context(viewport=VIEWPORT)
    try:
        admin = staff.new_page()
        log_in(admin, server_url, "admin", "admin-demo", "/admin/")
        # Three seconds of after-contact work on web chat, set where an admin sets it.
        admin.goto(f"{server_url}/admin/routing/routingconfig/")
        admin.get_by_role("link", name="Web chat", exact=True).click()
        admin.get_by_label("Wrap up seconds").fill("3")
        admin.get_by_role("button", name="Save", exact=True).click()
        expect(admin.get_by_text("was changed successfully")).to_be_visible()

        first = first_desk.new_page()
        log_in(first, server_url, "agent01", "agent-demo", "/console/")
        go_available(first)
        visitor = visitor_context.new_page()
        start_visitor_chat(
            visitor, server_url, "Dora Day", "dora@example.com", "Can I talk to a person? Billing"
        )
        offers = first.get_by_role("region", name="Offers")
        expect(offers).to_contain_text("Dora Day")
        offers.get_by_label("Reason for declining").select_option(label="Not my area")
        offers.get_by_role("button", name="Decline").click()
        expect(offers).not_to_contain_text("Dora Day")

        second = second_desk.new_page()
        log_in(second, server_url, "agent02", "agent-demo", "/console/")
        go_available(second)
        second_offers = second.get_by_role("region", name="Offers")
        expect(second_offers).to_contain_text("Dora Day")
        # A reload while the offer waits brings it back with its countdown running.
        second.reload()
        expect(second_offers).to_contain_text("Dora Day")
        expect(second_offers).to_contain_text("Expires in")
        second.keyboard.press("Alt+a")
        expect(second.get_by_role("tab", name="Dora Day")).to_be_visible()
        second.get_by_label("Insert a canned response").select_option(label="Greeting")
        expect(second.get_by_label("Reply")).to_have_value(
            "Hello Dora, thanks for reaching out. I am Grace Hopper; let me help."
        )
        second.get_by_label("Reply").fill("Hello Dora, one moment.")
        second.get_by_role("button", name="Send").click()
        expect(visitor.get_by_role("log", name="Conversation")).to_contain_text("one moment")

        # A half-written reply and the open conversation survive a reload.
        second.get_by_label("Reply").fill("Draft I have not sent")
        second.reload()
        expect(second.get_by_role("tab", name="Dora Day")).to_be_visible()
        expect(second.get_by_label("Reply")).to_have_value("Draft I have not sent")
        expect(second.get_by_role("log", name="Transcript")).to_contain_text("one moment")

        second.get_by_label("Reply").fill("")
        note_box = second.get_by_label("Internal note (the customer never sees it)")
        note_box.check()
        second.get_by_label("Reply").fill("Asked about an invoice")
        # A note half-written when the page reloads comes back as a note, never as a reply.
        second.reload()
        expect(second.get_by_label("Reply")).to_have_value("Asked about an invoice")
        expect(note_box).to_be_checked()
        second.get_by_role("button", name="Send").click()
        expect(note_box).not_to_be_checked()
        expect(second.get_by_role("log", name="Transcript")).to_contain_text("(internal note)")
        expect(visitor.get_by_role("log", name="Conversation")).not_to_contain_text("invoice")

        second.get_by_label("Transfer to").select_option(label="Billing")
        second.get_by_label("Transfer note").fill("Invoice question")
        second.get_by_role("button", name="Transfer").click()
        expect(second.get_by_role("tab", name="Dora Day")).to_have_count(0)
        expect(second.locator("#capacity")).to_contain_text("0/6")

        # Billing counts agent01 among its members: the agent who declined takes it now.
        expect(offers).to_contain_text("Dora Day")
        offers.get_by_role("button", name="Accept").click()
        transcript = first.get_by_role("log", name="Transcript")
        expect(transcript).to_contain_text("Transferred to Billing. Note: Invoice question")
        if SCREENSHOTS:
            first.get_by_label("Reply").fill("Hello Dora, I can help with the invoice.")
            first.screenshot(path=str(DOCS / "console.png"))
        expect(first.locator("#capacity")).to_contain_text("2/6")
        first.get_by_label("Disposition").select_option(label="Resolved")
        first.get_by_role("button", name="Close").click()
        expect(first.get_by_role("status").filter(has_text="Wrap-up")).to_be_visible()
        expect(first.locator("#capacity")).to_contain_text("2/6")
        # Capacity comes back when the wrap-up ends.
        expect(first.locator("#capacity")).to_contain_text("0/6", timeout=8000)

        # A supervisor sets agent02 offline from the dashboard: their console follows live.
        supervisor = supervisor_desk.new_page()
        log_in(supervisor, server_url, "supervisor", "supervisor-demo", "/supervisor/")
        supervisor.get_by_label("Status of Grace Hopper").select_option(label="Offline")
        # Offline is no status at all, shown as "Offline".
        expect(second.get_by_label("Presence")).to_have_value("")
        expect(second.locator("#status-time")).to_contain_text("Offline")
    finally:
        staff.close()
        first_desk.close()
        second_desk.close()
        supervisor_desk.close()
        visitor_context.close()
