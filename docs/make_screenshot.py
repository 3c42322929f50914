"""Screenshots of the chat example (examples/chat.flc and its page) for the README:

    docs/screenshots/chat.png         a desktop window, 1280x800 (Ann's view)
    docs/screenshots/chat-phone.png   a phone, 360x740 (Bob's view)

Run it from anywhere, after `pip install -e '.[test]'`, with a Chromium installed
(Debian's `chromium`, or see tests/browser/chat_harness.py, `find_chromium`):

    python docs/make_screenshot.py

It shares its setup with the browser tests (tests/browser/chat_harness.py): the server runs
with `--deterministic`, so the clock is fixed and the images come out the same every time.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from chat_harness import (  # noqa: E402
    CHROMIUM_MISSING,
    DESKTOP,
    PHONE,
    ChatServer,
    Users,
    find_chromium,
    join,
    launch_browser,
    say,
)

OUT = ROOT / "docs" / "screenshots"

# The deterministic clock says 2024-01-01T00:00Z; shown in Tokyo time that is 09:00.
TIMEZONE = "Asia/Tokyo"


def main() -> int:
    executable = find_chromium()
    if executable is None:
        print(CHROMIUM_MISSING, file=sys.stderr)
        return 1
    from playwright.sync_api import expect, sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    server = ChatServer.start()
    try:
        with sync_playwright() as playwright:
            browser = launch_browser(playwright, executable)
            users = Users(browser)
            ann = users.open(server, DESKTOP, timezone_id=TIMEZONE)
            join(ann, "Ann")
            bob = users.open(server, PHONE, timezone_id=TIMEZONE)
            join(bob, "Bob")
            say(ann, "Hi Bob! Welcome to the FluentAI chat.")
            say(bob, "Hi Ann. I'm on my phone: the user list sits above the messages here.")
            chen = users.open(server, DESKTOP, timezone_id=TIMEZONE)
            join(chen, "Chen")
            say(chen, "Morning both. Markup stays text: <b>not bold</b>")
            say(ann, "/who")
            say(bob, "If the server restarts, the page reconnects on its own.")
            say(ann, "And the whole server is one .flc file plus this page.")
            say(chen, "Nice, see you later!")
            for page in (ann, bob):
                expect(page.locator("#messages li.msg")).to_have_count(6)
                page.locator("#text").blur()  # no text cursor in the pictures
            ann.screenshot(path=OUT / "chat.png")
            bob.screenshot(path=OUT / "chat-phone.png")
            browser.close()
            if users.problems:
                print("the chat page misbehaved:\n" + "\n".join(users.problems),
                      file=sys.stderr)
                return 1
    finally:
        status = server.stop()
    if status != 0:
        print(f"the chat server exited with status {status}:\n{server.stderr}", file=sys.stderr)
        return 1
    for name in ("chat.png", "chat-phone.png"):
        print(f"wrote {(OUT / name).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
