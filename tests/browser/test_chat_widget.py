"""The embeddable widget in real Chromium: a shop page on another origin embeds it with one
script tag; the bot answers, hands off to an agent, typing shows both ways, a reload of the shop
page resumes the conversation, and a page on an origin the site did not list gets no chat."""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import free_port
from tests.browser.test_chat_in_browser import VIEWPORT, log_in

pytestmark = pytest.mark.browser


@dataclass
class ShopPage:
    """A third-party page, on its own origin, that embeds the widget with its one tag."""

    origin: str = ""
    site_key: str = ""
    # data-user-* attributes of a signed-in shopper, as the shop's server would render them.
    user: dict[str, str] = field(default_factory=dict)


@contextmanager
def shop_page(server_url: str) -> Iterator[ShopPage]:
    shop = ShopPage()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            html = (
                "<!DOCTYPE html><html><head><title>Shop</title></head><body><h1>The Shop</h1>"
                f'<script src="{server_url}/static/channels_app/widget.js" '
                f'data-site-key="{shop.site_key}" '
                + "".join(f'data-user-{name}="{value}" ' for name, value in shop.user.items())
                + "async></script></body></html>"
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args: object) -> None:
            pass

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # "localhost", not 127.0.0.1: another site than the contact center's.
    shop.origin = f"http://localhost:{port}"
    try:
        yield shop
    finally:
        server.shutdown()
        server.server_close()


def add_chat_site(admin: Page, server_url: str, name: str, origin: str) -> tuple[str, str]:
    """The new site's key and identity secret."""
    admin.goto(f"{server_url}/admin/channels_app/chatsite/add/")
    admin.get_by_label("Name").fill(name)
    admin.get_by_label("Allowed origins").fill(origin)
    key = admin.get_by_label("Key").input_value()
    secret = admin.get_by_label("Identity secret").input_value()
    admin.get_by_role("button", name="Save", exact=True).click()
    expect(admin.get_by_text("was added successfully")).to_be_visible()
    return key, secret


def test_the_widget_chats_from_another_site_and_survives_a_reload(server_url, browser) -> None:
    staff = browser.new_context(viewport=VIEWPORT)
    shopper_context = browser.new_context(viewport=VIEWPORT)
    try:
        admin = staff.new_page()
        log_in(admin, server_url, "admin", "admin-demo", "/admin/")
        with shop_page(server_url) as shop:
            shop.site_key, secret = add_chat_site(admin, server_url, "The Shop", shop.origin)
            # Wanda is signed in to the shop, whose server vouches for her email.
            signature = hmac.new(secret.encode(), b"wanda@example.com", hashlib.sha256)
            shop.user = {
                "name": "Wanda Widget",
                "email": "wanda@example.com",
                "hash": signature.hexdigest(),
            }
            agent = staff.new_page()
            log_in(agent, server_url, "agent02", "agent-demo", "/console/")
            expect(agent.get_by_text("Connected", exact=True)).to_be_visible()
            agent.get_by_label("Presence").select_option(label="Available")

            page = shopper_context.new_page()
            page.goto(shop.origin)
            page.get_by_role("button", name="Chat with us").click()
            chat = page.frame_locator("#cc-chat-widget")
            expect(chat.get_by_role("heading", name="Chat with The Shop")).to_be_visible()
            expect(chat.get_by_label("Your name")).to_have_value("Wanda Widget")
            expect(chat.get_by_label("Your email")).to_have_value("wanda@example.com")
            chat.get_by_role("button", name="Start chat").click()
            chat.get_by_label("Message").fill("When are you open?")
            chat.get_by_role("button", name="Send").click()
            conversation = chat.get_by_role("log", name="Conversation")
            expect(conversation).to_contain_text("Monday to Saturday")
            expect(chat.get_by_role("status").first).to_contain_text("assistant")

            chat.get_by_label("Message").fill("Can I talk to a person?")
            chat.get_by_role("button", name="Send").click()
            offers = agent.get_by_role("region", name="Offers")
            expect(offers).to_contain_text("Wanda Widget")
            offers.get_by_role("button", name="Accept").click()
            expect(chat.get_by_role("status").first).to_contain_text("You are chatting with")
            expect(agent.get_by_text("wanda@example.com")).to_be_visible()
            expect(agent.get_by_text("(unverified)")).to_have_count(0)
            # The agent sees the bot conversation.
            transcript = agent.get_by_role("log", name="Transcript")
            expect(transcript).to_contain_text("Monday to Saturday")

            agent.get_by_label("Reply").press_sequentially("Hi Wanda")
            expect(chat.get_by_text("is typing…")).to_be_visible()
            agent.get_by_role("button", name="Send").click()
            expect(conversation).to_contain_text("Hi Wanda")
            chat.get_by_label("Message").press_sequentially("Great")
            expect(agent.get_by_text("Wanda Widget is typing…")).to_be_visible()

            # A reload of the shop page: the widget reopens on the same conversation.
            page.reload()
            chat = page.frame_locator("#cc-chat-widget")
            conversation = chat.get_by_role("log", name="Conversation")
            expect(conversation).to_contain_text("Hi Wanda")
            expect(conversation).to_contain_text("When are you open?")
            expect(chat.get_by_role("status").first).to_contain_text("You are chatting with")
            chat.get_by_label("Message").fill("Still here after the reload")
            chat.get_by_role("button", name="Send").click()
            expect(transcript).to_contain_text("Still here after the reload")

            chat.get_by_role("button", name="End chat").click()
            expect(chat.get_by_role("status").first).to_contain_text("You ended this chat")
            expect(transcript).to_contain_text("The customer left the chat.")
    finally:
        staff.close()
        shopper_context.close()


def test_a_page_on_an_origin_the_site_did_not_list_gets_no_chat(server_url, browser) -> None:
    staff = browser.new_context(viewport=VIEWPORT)
    stranger_context = browser.new_context(viewport=VIEWPORT)
    try:
        admin = staff.new_page()
        log_in(admin, server_url, "admin", "admin-demo", "/admin/")
        key, _ = add_chat_site(admin, server_url, "Listed only", "https://shop.example")
        with shop_page(server_url) as elsewhere:
            elsewhere.site_key = key
            page = stranger_context.new_page()
            blocked: list[str] = []
            page.on("console", lambda message: blocked.append(message.text))
            page.goto(elsewhere.origin)
            page.get_by_role("button", name="Chat with us").click()
            frame = page.frame_locator("#cc-chat-widget")
            expect(frame.get_by_role("button", name="Start chat")).to_have_count(0, timeout=3000)
            page.wait_for_timeout(500)
            assert any("frame-ancestors" in text for text in blocked), blocked
    finally:
        staff.close()
        stranger_context.close()
