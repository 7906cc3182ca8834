"""Browser-test fixtures: the real app served by ``flask run`` in a subprocess, and Chromium.

The server gets its own temporary SQLite file, upload folder and mail outbox (no SMTP server
is configured, so mails land in the outbox as ``.eml`` files, as in development). It is
migrated with ``flask db upgrade`` and seeded with ``flask seed-demo``, as ``make run``
does. Every test in this folder is skipped when Debian's Chromium is missing.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("FOLIO_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "folio-demo-2026!"  # matches webapp/cli.py's seed-demo
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


# CI sets FOLIO_E2E_REQUIRED=1: there a missing browser or axe-core is an error, not a skip.
E2E_REQUIRED = os.environ.get("FOLIO_E2E_REQUIRED") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip a browser test whose tools are missing; in CI, fail instead so nothing hides."""
    if E2E_REQUIRED:
        pytest.fail(f"{reason} (FOLIO_E2E_REQUIRED=1)", pytrace=False)
    pytest.skip(reason)


def pytest_collection_modifyitems(config, items):
    """Everything under tests/e2e is a browser test: mark it, and skip it without Chromium."""
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing (apt-get install chromium)")
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.e2e)
            if not CHROMIUM.exists() and not E2E_REQUIRED:
                item.add_marker(skip)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """A running Folio and the folders it writes to."""

    def __init__(self, root: Path):
        self.root = root
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.outbox = root / "outbox"
        self.log_path = root / "server.log"
        self.env = {
            **os.environ,
            "FOLIO_ENV": "development",
            "FLASK_APP": "wsgi",
            "SECRET_KEY": "e2e-secret-key",
            "DATABASE_URL": f"sqlite:///{root / 'folio.db'}",
            "STORAGE_PATH": str(root / "uploads"),
            "MAIL_OUTBOX_DIR": str(self.outbox),
            "MAIL_SERVER": "",  # no SMTP: the outbox, as in development
            "REDIS_URL": "",  # jobs run in-process, limits kept in memory
            "RATELIMIT_STORAGE_URI": "memory://",
            "BASE_URL": self.url,
            # The accessibility test signs in once per viewport and theme.
            "LOGIN_LIMIT_PER_IP": "1000 per minute",
            "LOGIN_LIMIT_PER_ACCOUNT": "1000 per minute",
            "MAIL_LIMIT": "1000 per hour",  # reset links are asked for once per viewport and theme too
            "PYTHONUNBUFFERED": "1",
        }
        self.process: subprocess.Popen | None = None
        self._log = None

    def prepare_database(self) -> None:
        """``flask db upgrade`` then ``flask seed-demo``, in one process to save an app start."""
        script = (
            "from flask_migrate import upgrade\n"
            "from wsgi import app\n"
            "with app.app_context():\n"
            "    upgrade()\n"
            "result = app.test_cli_runner().invoke(args=['seed-demo'])\n"
            "assert result.exit_code == 0, result.output\n"
        )
        # A fixed argv (no shell), our own script: nothing untrusted reaches it.
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-c", script],
            cwd=PROJECT_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode:
            raise RuntimeError(f"migrating and seeding failed:\n{done.stdout}\n{done.stderr}")

    def start(self) -> None:
        self.prepare_database()
        self._log = log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
            [
                sys.executable,
                "-m",
                "flask",
                "run",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-reload",
            ],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited:\n{self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v1/health", timeout=2):  # noqa: S310
                    return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        raise RuntimeError(f"the server did not start:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self._log:
            self._log.close()

    def mails_to(self, address: str) -> list:
        """Messages in the outbox addressed to ``address``, oldest first."""
        if not self.outbox.exists():
            return []
        files = sorted(self.outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
        parsed = [BytesParser(policy=policy.default).parsebytes(p.read_bytes()) for p in files]
        return [m for m in parsed if address in m["To"]]

    def wait_for_link(self, address: str, pattern: str, timeout: float = 10) -> str:
        """The first URL containing ``pattern`` in the newest mail to ``address``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mails = self.mails_to(address)
            if mails:
                body = mails[-1].get_body(("plain",)).get_content()
                match = re.search(rf"https?://\S*{pattern}\S*", body)
                if match:
                    return match.group(0)
            time.sleep(0.1)
        raise AssertionError(f"no mail with a {pattern!r} link reached {address}")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is missing")
    server = LiveServer(tmp_path_factory.mktemp("folio-e2e"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is missing")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_context(browser, live_server):
    """Factory for isolated browser contexts (own cookies) pointed at the live server."""
    contexts = []

    def make(viewport: dict | None = None, **options):
        context = browser.new_context(base_url=live_server.url, viewport=viewport or DESKTOP, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context):
    """A desktop-sized page that fails the test on any browser console error (CSP included)."""
    context = new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.console_errors = errors
    return page


def sign_in(page, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the login page."""
    page.goto("/auth/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]:has-text('Sign in')")
    page.wait_for_url("**/dashboard")


def set_theme(page, theme: str) -> None:
    """Choose a theme on /settings the way a member does, and wait for it to apply."""
    page.goto("/settings")
    # The radios are styled as a segmented control: click the visible label, as a person does.
    page.click(f"label.segment:has(input[name=theme][value={theme}])")
    assert page.is_checked(f"input[name=theme][value={theme}]")
    page.click("button[type=submit]:has-text('Save settings')")
    page.wait_for_selector(f"html[data-theme={theme}]")
