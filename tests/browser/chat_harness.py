"""Helpers shared by the browser tests of the chat example and docs/make_screenshot.py:
start examples/chat.flc as a subprocess, launch Debian's Chromium through Playwright,
open the chat page as a separate user and drive it.

Playwright drives a Chromium found by `find_chromium` (the Debian package `chromium` in CI;
also Ubuntu's `chromium-browser`, Google Chrome, a browser Playwright downloaded, or the one
`PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH` names); it never downloads one itself. Each
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


# Where a Chromium is looked for, in order (`find_chromium`).
CHROMIUM_ENV = "PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable",
                  "chrome")
# Playwright's own downloads (`playwright install chromium`), newest build first.
PLAYWRIGHT_BUILDS = ("chromium-*/chrome-linux*/chrome", "chromium_headless_shell-*/chrome-linux*/"
                     "headless_shell", "chromium-*/chrome-mac*/Chromium.app/Contents/MacOS/Chromium")
MAC_APPS = ("/Applications/Chromium.app/Contents/MacOS/Chromium",
            "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome")
CHROMIUM_MISSING = (
    f"no Chromium found: install one (Debian: apt-get install chromium, as .ci/run does; "
    f"Ubuntu: chromium-browser; or Google Chrome), or set {CHROMIUM_ENV} to a Chromium or "
    f"Chrome executable (looked for {', '.join(CHROMIUM_NAMES)} on PATH and for "
    f"Playwright's own browsers)")


def find_chromium() -> str | None:
    """A Chromium (or Chrome) executable, or None: `$PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH`
    when set, else the usual command names on PATH (Debian's `chromium`, Ubuntu's
    `chromium-browser`, Google Chrome), else a browser Playwright downloaded itself (under
    `$PLAYWRIGHT_BROWSERS_PATH`, default ~/.cache/ms-playwright), else a macOS app."""
    given = os.environ.get(CHROMIUM_ENV)
    if given:
        return given if os.access(given, os.X_OK) and Path(given).is_file() else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    cache = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH")
                 or Path.home() / ".cache" / "ms-playwright")
    for pattern in PLAYWRIGHT_BUILDS:
        builds = sorted(cache.glob(pattern), key=_build_number, reverse=True)
        for build in builds:
            if os.access(build, os.X_OK):
                return str(build)
    return next((app for app in MAC_APPS if os.access(app, os.X_OK)), None)


def _build_number(path: Path) -> int:
    """1155 for .../chromium-1155/chrome-linux/chrome: the newest build wins."""
    for part in path.parts:
        number = part.rpartition("-")[2]
        if part.startswith("chromium") and number.isdigit():
            return int(number)
    return 0


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
        raise RuntimeError(CHROMIUM_MISSING)
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
