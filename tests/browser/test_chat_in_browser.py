"""A visitor and an agent chat in real Chromium against a real Daphne."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser
DOCS = Path(__file__).resolve().parents[2] / "docs"
SCREENSHOTS = os.environ.get("CC_SCREENSHOTS") == "1"
VIEWPORT = {"width": 1280, "height": 720}


def log_in(page: Page, base: str, username: str, password: str, next_path: str) -> None:
    page.goto(f"{base}/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}{next_path}")


def start_visitor_chat(page: Page, base: str, name: str, email: str, first_message: str) -> None:
    page.goto(f"{base}/chat/")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Your email").fill(email)
    page.get_by_role("button", name="Start chat").click()
    page.get_by_label("Message").fill(first_message)
    page.get_by_role("button", name="Send").click()


def offline_status_id(page: Page) -> str:
    return (
        page.get_by_label("Presence").locator("option", has_text="Offline").get_attribute("value")
    )


def test_agent_receives_accepts_and_answers_a_visitor_chat(server_url, browser) -> None:
    agent_context = browser.new_context(viewport=VIEWPORT)
    visitor_context = browser.new_context(viewport=VIEWPORT)
    agent = agent_context.new_page()
    visitor = visitor_context.new_page()
    try:
        log_in(agent, server_url, "agent01", "agent-demo", "/console/")
        expect(agent.get_by_text("Connected", exact=True)).to_be_visible()
        agent.get_by_label("Presence").select_option(label="Available")
        expect(agent.locator("#capacity")).to_contain_text("0/6")

        start_visitor_chat(
            visitor,
            server_url,
            "Vera Visitor",
            "vera@example.com",
            "Can I talk to a person? My parcel is late",
        )
        expect(visitor.get_by_role("status").first).to_contain_text("Waiting")

        offers = agent.get_by_role("region", name="Offers")
        expect(offers).to_contain_text("Vera Visitor")
        expect(offers).to_contain_text("My parcel is late")
        expect(offers).to_contain_text("Expires in")
        reasons = offers.get_by_label("Reason for declining")
        expect(reasons).to_contain_text("Busy with another customer")
        offers.get_by_role("button", name="Accept").click()

        expect(agent.get_by_role("tab", name="Vera Visitor")).to_be_visible()
        # Anyone can type an email on the public page: the agent is told it is unverified.
        expect(agent.get_by_text("says vera@example.com (unverified)")).to_be_visible()
        expect(agent.locator("#capacity")).to_contain_text("2/6")
        expect(visitor.get_by_role("status").first).to_contain_text("Ada Lovelace")
        agent.get_by_label("Reply").fill("Hi Vera, let me check that parcel.")
        agent.get_by_role("button", name="Send").click()

        conversation = visitor.get_by_role("log", name="Conversation")
        expect(conversation).to_contain_text("Hi Vera, let me check that parcel.")
        visitor.get_by_label("Message").fill("Thank you!")
        visitor.get_by_role("button", name="Send").click()
        expect(agent.get_by_role("log", name="Transcript")).to_contain_text("Thank you!")

        supervisor = browser.new_context(viewport=VIEWPORT).new_page()
        log_in(supervisor, server_url, "supervisor", "supervisor-demo", "/supervisor/")
        expect(supervisor.get_by_role("table", name="Agents")).to_contain_text("Vera Visitor")

        agent.get_by_label("Disposition").select_option(label="Resolved")
        agent.get_by_role("button", name="Close").click()
        expect(agent.get_by_role("tab", name="Vera Visitor")).to_have_count(0)
        expect(visitor.get_by_role("status").first).to_contain_text("closed")
        expect(agent.locator("#capacity")).to_contain_text("0/6")
        agent.get_by_label("Presence").select_option(label="Offline")
        expect(agent.get_by_label("Presence")).to_have_value(str(offline_status_id(agent)))
    finally:
        agent_context.close()
        visitor_context.close()


def test_supervisor_view_updates_live_when_a_chat_waits(server_url, browser) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    visitor_context = browser.new_context(viewport=VIEWPORT)
    try:
        supervisor = context.new_page()
        log_in(supervisor, server_url, "supervisor", "supervisor-demo", "/supervisor/")
        queues = supervisor.get_by_role("table", name="Queues")
        chat_row = queues.get_by_role("row").filter(has_text="Web chat")
        expect(chat_row).to_be_visible()
        before = chat_row.inner_text()

        visitor = visitor_context.new_page()
        start_visitor_chat(
            visitor, server_url, "Walt Waiting", "walt@example.com", "I want an agent, please"
        )
        expect(visitor.get_by_role("status").first).to_contain_text("No agent is available")
        expect(chat_row).not_to_have_text(before)
        expect(chat_row.get_by_role("cell").first).to_have_text("1")
        waiting = supervisor.get_by_role("table", name="Waiting work")
        walt = waiting.get_by_role("row").filter(has_text="Walt Waiting")
        expect(walt).to_contain_text("No agent can take it")
        expect(walt).to_contain_text("offline")
        backlog = supervisor.get_by_role("table", name="Skills backlog")
        expect(backlog).to_contain_text("No waiting work needs a skill.")
        # The supervisor moves Walt up: the new priority shows in the next snapshot.
        supervisor.get_by_role("button", name="Raise priority of Walt Waiting").click()
        expect(walt.get_by_role("cell").nth(2)).to_contain_text("10")
    finally:
        visitor_context.close()
        context.close()
