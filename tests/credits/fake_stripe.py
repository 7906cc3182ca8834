"""A local server that answers as Stripe's API does, and signed webhook deliveries.

The app's Stripe client is pointed at it (``STRIPE_API_BASE``), so the real ``stripe`` library
builds and sends every request; the server records what it received (form-encoded, as Stripe
takes it) and answers with the objects Stripe would. Webhooks are signed with Stripe's scheme:
``Stripe-Signature: t=<unix time>,v1=<HMAC-SHA256 of "<t>.<payload>" keyed by the secret>``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid

WEBHOOK_SECRET = "whsec_test_folio"  # noqa: S105 (a test secret)
DECLINED_CARD = "pm_card_chargeDeclined"


class FakeStripe:
    def __init__(self):
        self.requests: list[tuple[str, str, dict[str, str], dict[str, str]]] = []
        self.lock = threading.Lock()

    def answer(self, method: str, path: str, form: dict[str, str], headers: dict[str, str]) -> tuple[int, dict]:
        with self.lock:
            self.requests.append((method, path, form, headers))
        if path == "/v1/customers":
            return 200, {"id": f"cus_{uuid.uuid4().hex[:14]}", "object": "customer", "email": form.get("email")}
        if path == "/v1/checkout/sessions":
            session_id = f"cs_test_{uuid.uuid4().hex}"
            return 200, {
                "id": session_id,
                "object": "checkout.session",
                "url": f"https://checkout.stripe.test/pay/{session_id}",
                "status": "open",
                "payment_status": "unpaid",
                "customer": form.get("customer"),
                "client_reference_id": form.get("client_reference_id"),
                "amount_total": int(form["line_items[0][price_data][unit_amount]"]),
                "metadata": {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
            }
        if path == "/v1/payment_intents":
            if form.get("payment_method") == DECLINED_CARD:
                return 402, {
                    "error": {
                        "type": "card_error",
                        "code": "card_declined",
                        "decline_code": "generic_decline",
                        "message": "Your card was declined.",
                    }
                }
            return 200, {
                "id": f"pi_{uuid.uuid4().hex[:14]}",
                "object": "payment_intent",
                "status": "succeeded",
                "amount": int(form["amount"]),
                "currency": form["currency"],
                "customer": form.get("customer"),
                "payment_method": form.get("payment_method"),
            }
        return 404, {"error": {"type": "invalid_request_error", "message": f"Unrecognized request URL ({path})."}}

    def sent(self, path: str) -> list[dict[str, str]]:
        return [form for _, p, form, _ in self.requests if p == path]


def signed(event: dict, *, secret: str = WEBHOOK_SECRET, at: int | None = None) -> tuple[bytes, dict[str, str]]:
    """A webhook delivery: the payload and its ``Stripe-Signature`` header."""
    payload = json.dumps(event).encode()
    timestamp = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return payload, {"Stripe-Signature": f"t={timestamp},v1={digest}", "Content-Type": "application/json"}


def event(kind: str, obj: dict) -> dict:
    return {
        "id": f"evt_{uuid.uuid4().hex[:14]}",
        "object": "event",
        "api_version": "2025-01-27.acacia",
        "created": int(time.time()),
        "type": kind,
        "livemode": False,
        "pending_webhooks": 1,
        "data": {"object": obj},
    }
