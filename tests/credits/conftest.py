"""Credits fixtures: the local server that answers as Stripe's API does (``fake_stripe``)."""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest

from tests.credits.fake_stripe import WEBHOOK_SECRET, FakeStripe


@pytest.fixture(scope="session")
def _stripe_server():
    fake = FakeStripe()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            status, answer = fake.answer("POST", self.path, dict(parse_qsl(body)), dict(self.headers))
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Request-Id", f"req_{uuid.uuid4().hex[:12]}")
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def stripe_api(app, _stripe_server, monkeypatch):
    """This test's app sells through Stripe, whose API is the local fake."""
    fake, url = _stripe_server
    with fake.lock:
        fake.requests.clear()
    for name, value in {
        "PAYMENT_PROVIDER": "stripe",
        "STRIPE_SECRET_KEY": "sk_test_folio",
        "STRIPE_API_BASE": url,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }.items():
        monkeypatch.setitem(app.config, name, value)
    return fake
