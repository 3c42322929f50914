"""Helpers shared by the browser tests of the chat example and docs/make_screenshot.py:
start examples/chat.flc as a subprocess, launch Debian's Chromium through Playwright,
open the chat page as a separate user and drive it.

Playwright drives the system's Chromium (`shutil.which("chromium")`, the Debian package
`chromium`); it never downloads a browser (`playwright install` is not needed). Each
`browser.new_context()` is a separate profile (cookies, storage), so two contexts are two
users. Playwright starts Chromium with a fresh temporary `--user-data-dir` of its own.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = "examples/chat.flc"  # relative to ROOT, the directory the server runs in
HOST = "127.0.0.1"
TIMEOUT = 15.0  # seconds for the server to start or stop

# Quiet, self-contained headless Chromium: the machines this runs on have no network
# beyond 127.0.0.1, and background requests would only add noise and delays.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}


def find_chromium() -> str | None:
    """The Chromium executable, or None when it is not installed."""
    return shutil.which("chromium")


# ---- the server ---------------------------------------------------------------------------


@dataclass
class ChatServer:
    """examples/chat.flc running as `python -m fluentai run --deterministic`; its output is
    collected by threads (so a chatty server never blocks on a full pipe)."""

    proc: subprocess.Popen[str]
    port: int = 0
    lines: list[str] = field(default_factory=list)
    stderr: str = ""
    _queue: queue.Queue[str | None] = field(default_factory=queue.Queue)
    _threads: list[threading.Thread] = field(default_factory=list)

    @classmethod
    def start(cls, port: int = 0) -> ChatServer:
        """Start the server on `port` (0: any free port) and wait for it to listen."""
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        proc = subprocess.Popen(
            [sys.executable, "-m", "fluentai", "run", "--deterministic", PROGRAM, str(port)],
            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, encoding="utf-8", env=env,
        )
        server = cls(proc)
        server._threads = [
            threading.Thread(target=server._read_stdout, daemon=True),
            threading.Thread(target=server._read_stderr, daemon=True),
        ]
        for thread in server._threads:
            thread.start()
        try:
            first = server.next_line()
        except TimeoutError:
            server.kill()
            raise
        found = re.search(rf"http://{re.escape(HOST)}:(\d+)/", first or "")
        if not found:
            server.kill()
            raise RuntimeError(f"chat server: no address in its first line {first!r}; "
                               f"stderr:\n{server.stderr}")
        server.port = int(found.group(1))
        return server

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        self.stderr = self.proc.stderr.read()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def next_line(self, timeout: float = TIMEOUT) -> str | None:
        """The next line of stdout (None at its end)."""
        try:
            line = self._queue.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"chat server: no output within {timeout}s; so far: "
                               f"{self.lines}") from None
        if line is not None:
            self.lines.append(line)
        return line

    def stop(self) -> int:
        """SIGTERM, as a service manager would; gives the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        status = self.proc.wait(TIMEOUT)
        for thread in self._threads:
            thread.join(TIMEOUT)
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.lines.append(line)
        return status

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(TIMEOUT)
        for thread in self._threads:
            thread.join(TIMEOUT)


# ---- the browser --------------------------------------------------------------------------


def launch_browser(playwright: Playwright, executable: str | None = None) -> Browser:
    """Headless Chromium from the system (never a downloaded one)."""
    executable = executable or find_chromium()
    if executable is None:
        raise RuntimeError("chromium is not installed (Debian: apt-get install chromium)")
    return playwright.chromium.launch(
        executable_path=executable, headless=True, args=CHROMIUM_ARGS,
    )


def open_chat(browser: Browser, url: str, viewport: dict[str, int] = DESKTOP,
              setup: Callable[[Page], None] | None = None, **context_options: Any) -> Page:
    """The chat page in a new browser context (a separate user), connected to the server.
    A narrow viewport is opened as a phone (mobile viewport rules, touch). `setup` gets
    the page before it loads (to attach event listeners)."""
    options: dict[str, Any] = {
        "viewport": viewport,
        "locale": "en-GB",          # 24-hour times, the same on every machine
        "timezone_id": "UTC",
        "color_scheme": "light",
        "service_workers": "block",
    }
    if viewport["width"] < 640:
        options.update(is_mobile=True, has_touch=True, device_scale_factor=1)
    options.update(context_options)
    context = browser.new_context(**options)
    page = context.new_page()
    if setup is not None:
        setup(page)
    page.goto(url)
    wait_for_status(page, "connected")
    return page


def wait_for_status(page: Page, state: str, timeout: float = 10_000) -> None:
    """Wait until the status line in the header has the class `state` (connecting,
    connected or disconnected)."""
    page.wait_for_function(
        "state => document.getElementById('status').classList.contains(state)",
        arg=state, timeout=timeout,
    )


def join(page: Page, name: str) -> None:
    """Type a nickname, press Enter and wait for the chat view."""
    page.locator("#nick").fill(name)
    page.locator("#nick").press("Enter")
    page.locator("#chat").wait_for(state="visible")


def say(page: Page, text: str, *, typed: bool = True) -> None:
    """Type a message in the input key by key (or paste it: typed=False) and press Enter;
    wait until the input is cleared (the page clears it once the message is sent)."""
    box = page.locator("#text")
    box.fill("")
    if typed:
        box.press_sequentially(text)
    else:
        box.fill(text)
    box.press("Enter")
    page.wait_for_function("() => document.getElementById('text').value === ''")


@dataclass
class Users:
    """Chat pages opened by a test, each in its own browser context (a separate user).
    Whatever a page does wrong on the side is collected, and checked after the test:
    uncaught JavaScript errors, dialogs (alert() from an injected script) and requests
    that leave the chat server (the page must not load external assets)."""

    browser: Browser
    problems: list[str] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)

    def open(self, server: ChatServer, viewport: dict[str, int] = DESKTOP,
             **options: Any) -> Page:
        """The chat page of `server`, connected, in a new context."""
        origin = server.url.rstrip("/")
        where = f"page {len(self.pages) + 1}"

        def watch(page: Page) -> None:
            page.on("pageerror", lambda error: self.problems.append(
                f"{where}: uncaught JavaScript error: {error}"))

            def dialog(d: Any) -> None:
                self.problems.append(f"{where}: a {d.type} dialog opened: {d.message!r}")
                d.dismiss()

            page.on("dialog", dialog)
            page.on("request", lambda request: None if (
                request.url.startswith((origin + "/", "data:"))
            ) else self.problems.append(f"{where}: request off the chat server: {request.url}"))

        page = open_chat(self.browser, server.url, viewport, setup=watch, **options)
        self.pages.append(page)
        return page
