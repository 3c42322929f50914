"""The chat example in a real browser: examples/chat/index.html served by examples/chat.flc,
driven in headless Chromium by Playwright (see chat_harness.py and conftest.py).

Every user is a separate browser context. Waits are on conditions (Playwright's `expect`
and `wait_for_function` poll until their timeout), never sleep-then-assert.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from chat_harness import DESKTOP, PHONE, ChatServer, Users, join, say, wait_for_status

pytest.importorskip("playwright", reason="the Python package playwright is not installed "
                    "(pip install -e '.[test]'): skipping the browser tests")
from playwright.sync_api import Locator, Page, expect

RECONNECT_TIMEOUT = 45_000  # ms: the page backs off 1 s, 2 s, 4 s, ... between attempts

HTML = "<b>bold</b><img src=x onerror=alert(1)>"


def notices(page: Page) -> Locator:
    return page.locator("#messages li.notice")


def last_message(page: Page) -> Locator:
    return page.locator("#messages li.msg").last


def expect_users(page: Page, names: list[str], timeout: float = 10_000) -> None:
    """Wait until the user list shows exactly `names` (in any order) and the count."""
    page.wait_for_function(
        """names => {
            const shown = [...document.querySelectorAll('#user-list li')].map(li => li.textContent);
            return JSON.stringify(shown.sort()) === JSON.stringify([...names].sort())
                && document.getElementById('user-count').textContent === String(names.length);
        }""",
        arg=names, timeout=timeout,
    )
    expect(page.locator("#user-list")).to_be_visible()


def in_viewport(page: Page, selector: str) -> None:
    """The element is visible and wholly inside the viewport."""
    locator = page.locator(selector)
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None
    assert box["x"] >= 0 and box["y"] >= 0, (selector, box)
    assert box["x"] + box["width"] <= size["width"] + 0.5, (selector, box, size)
    assert box["y"] + box["height"] <= size["height"] + 0.5, (selector, box, size)


def no_page_overflow(page: Page) -> None:
    """The page fits the window: no scrolling sideways, and (an app shell: the message
    list scrolls, the page does not) no scrolling down. On a phone the layout is as wide
    as the screen (the page has a viewport meta tag)."""
    sizes = page.evaluate("""() => {
        const d = document.documentElement;
        return {scrollWidth: d.scrollWidth, clientWidth: d.clientWidth,
                scrollHeight: d.scrollHeight, clientHeight: d.clientHeight};
    }""")
    assert page.viewport_size is not None
    assert sizes["clientWidth"] == page.viewport_size["width"], f"layout width: {sizes}"
    assert sizes["scrollWidth"] <= sizes["clientWidth"], f"horizontal overflow: {sizes}"
    assert sizes["scrollHeight"] <= sizes["clientHeight"], f"vertical overflow: {sizes}"


# ---- tests --------------------------------------------------------------------------------


def test_two_users_chat(server: ChatServer, users: Users) -> None:
    ann = users.open(server)
    expect(ann.locator("#status")).to_have_text("connected")
    expect(ann.locator("#nick")).to_be_focused()  # autofocus: type a name straight away
    join(ann, "Ann")
    expect(ann.locator("#text")).to_be_focused()
    expect_users(ann, ["Ann"])

    bob = users.open(server)
    join(bob, "Bob")
    expect(notices(ann).last).to_have_text("Bob joined")
    expect_users(ann, ["Ann", "Bob"])
    expect_users(bob, ["Ann", "Bob"])
    expect(ann.locator("#user-list li.me")).to_have_text("Ann")
    expect(bob.locator("#user-list li.me")).to_have_text("Bob")

    say(ann, "Hello Bob!")  # typed into the input, sent with Enter
    for page in (ann, bob):
        expect(last_message(page).locator(".from")).to_have_text("Ann")
        expect(last_message(page).locator(".text")).to_have_text("Hello Bob!")
    expect(last_message(ann)).to_have_class("msg mine")
    expect(last_message(bob)).to_have_class("msg")

    say(bob, "Hi Ann, multi-word reply")
    expect(last_message(ann).locator(".from")).to_have_text("Bob")
    expect(last_message(ann).locator(".text")).to_have_text("Hi Ann, multi-word reply")

    say(ann, "/who")
    expect(notices(ann).last).to_have_text("Online: Ann, Bob")

    bob.context.close()  # the second user closes the window
    expect(notices(ann).last).to_have_text("Bob left")
    expect_users(ann, ["Ann"])
    expect(ann.locator("#status")).to_have_text("connected")


def test_html_is_shown_as_text(server: ChatServer, users: Users) -> None:
    ann = users.open(server)
    join(ann, "Ann")
    eve = users.open(server)
    join(eve, "<i>Eve</i>")  # a nickname is text too
    expect(notices(ann).last).to_have_text("<i>Eve</i> joined")
    expect_users(ann, ["Ann", "<i>Eve</i>"])

    say(ann, HTML)
    for page in (ann, eve):
        message = last_message(page)
        expect(message.locator(".text")).to_have_text(HTML)
        assert message.locator(".text").evaluate("node => node.textContent") == HTML
        assert page.locator("#messages b, #messages img, #messages i").count() == 0
        assert page.locator("#user-list i").count() == 0

    say(eve, HTML)
    expect(last_message(ann).locator(".from")).to_have_text("<i>Eve</i>")
    expect(last_message(ann).locator(".text")).to_have_text(HTML)
    assert ann.locator("#messages b, #messages img, #messages i").count() == 0
    # No alert() ran: the `users` fixture fails the test on any dialog.


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_layout(server: ChatServer, users: Users, viewport: dict[str, int]) -> None:
    page = users.open(server, viewport)
    no_page_overflow(page)
    in_viewport(page, "#nick")
    in_viewport(page, "#join-button")

    # The longest names allowed, a word too long for any line, and enough messages to
    # scroll: the page must not get wider or taller than the window.
    join(page, "Maximilian-Alexander-Lee")  # 24 characters, the most a name may have
    other = users.open(server)
    join(other, "Bartholomew-Fitzgerald-X")
    say(other, "x" * 300, typed=False)
    say(other, "https://example.org/" + "a-very-long-path/" * 12, typed=False)
    for i in range(20):
        say(other, f"message {i}: " + "lorem ipsum dolor sit amet " * (i % 4), typed=False)
    expect(page.locator("#messages li.msg")).to_have_count(22)
    expect(last_message(page).locator(".text")).to_contain_text("message 19:")

    no_page_overflow(page)
    in_viewport(page, "#text")
    in_viewport(page, "#say-form button")
    in_viewport(page, "#status")
    expect(page.locator("#user-list li.me")).to_be_visible()
    expect_users(page, ["Maximilian-Alexander-Lee", "Bartholomew-Fitzgerald-X"])
    # The newest message is scrolled into view.
    in_viewport(page, "#messages li.msg >> nth=-1")
    # Long words wrap: nothing sticks out of a message or scrolls the list sideways.
    wide = page.evaluate("""() => [document.getElementById('messages'),
                                   ...document.querySelectorAll('#messages li, #messages .text')]
        .filter(node => node.scrollWidth > node.clientWidth + 1)
        .map(node => node.className + ': ' + node.scrollWidth + ' > ' + node.clientWidth)""")
    assert wide == [], f"too wide: {wide}"

    # Sending from this page works at this size too.
    say(page, "fits")
    expect(last_message(other).locator(".text")).to_have_text("fits")


def test_reconnects_after_a_server_restart(servers: Callable[..., ChatServer],
                                           users: Users) -> None:
    first = servers()
    ann = users.open(first)
    join(ann, "Ann")
    bob = users.open(first)
    join(bob, "Bob")
    expect_users(ann, ["Ann", "Bob"])

    status = first.stop()  # SIGTERM: the server closes every WebSocket and exits
    assert status == 0, f"exit status {status}\n{first.stderr}"
    assert "Traceback" not in first.stderr, first.stderr
    for page in (ann, bob):
        expect(page.locator("#status")).to_contain_text("disconnected")
        expect(page.locator("#status")).to_have_class("status disconnected")
        expect(notices(page).last).to_have_text("Connection lost.")

    # Sending while disconnected says so and keeps the text.
    ann.locator("#text").fill("anyone there?")
    ann.locator("#text").press("Enter")
    expect(notices(ann).last).to_have_text("Not connected: your message was not sent.")
    expect(ann.locator("#text")).to_have_value("anyone there?")

    second = servers(port=first.port)  # a new server on the same address
    assert second.port == first.port
    for page in (ann, bob):
        wait_for_status(page, "connected", timeout=RECONNECT_TIMEOUT)
        expect_users(page, ["Ann", "Bob"], timeout=RECONNECT_TIMEOUT)  # both rejoined
        expect(page.locator("#chat")).to_be_visible()
        expect(page.locator("#status")).to_have_text("connected")

    say(ann, "back again")
    expect(last_message(bob).locator(".from")).to_have_text("Ann")
    expect(last_message(bob).locator(".text")).to_have_text("back again")
    say(bob, "welcome back")
    expect(last_message(ann).locator(".text")).to_have_text("welcome back")
