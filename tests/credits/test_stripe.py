"""Stripe: Checkout through the real library against a local Stripe-speaking server, signed
webhooks (replayed, forged, stale), the saved card and off-session auto-refills."""

from __future__ import annotations

import logging
import time
import uuid

import pytest
import sqlalchemy as sa

from tests.credits.fake_stripe import DECLINED_CARD, event, signed
from tests.helpers import assert_json_error, bearer, csrf_token, make_key
from webapp.credits import service as credits
from webapp.credits.models import CreditPurchase
from webapp.extensions import db

WEBHOOK = "/api/v1/credits/webhooks/stripe"


@pytest.fixture
def buyer(make_user):
    user = make_user(email="card@example.com")
    _, secret = make_key(user, ["credits:read", "credits:spend", "credits:purchase"])
    return user, bearer(secret)


def _start(client, headers, pack="growth") -> dict:
    response = client.post("/api/v1/credits/purchase", json={"pack": pack}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]


def _paid_session(purchase: dict, fake, **extra) -> dict:
    session_form = fake.sent("/v1/checkout/sessions")[-1]
    return {
        "id": purchase_reference(purchase["id"]),
        "object": "checkout.session",
        "payment_status": "paid",
        "status": "complete",
        "customer": session_form["customer"],
        "client_reference_id": purchase["id"],
        "metadata": {"purchase_id": purchase["id"]},
        **extra,
    }


def purchase_reference(purchase_id: str) -> str:
    return db.session.scalar(
        sa.select(CreditPurchase.provider_reference).where(CreditPurchase.id == uuid.UUID(purchase_id))
    )


def test_a_purchase_opens_a_checkout_session_and_credits_nothing_yet(client, buyer, stripe_api):
    user, headers = buyer
    purchase = _start(client, headers)
    assert purchase["provider"] == "stripe" and purchase["status"] == "pending"
    assert purchase["checkout_url"].startswith("https://checkout.stripe.test/pay/cs_test_")
    (customer,) = stripe_api.sent("/v1/customers")
    assert customer["email"] == user.email and customer["metadata[user_id]"] == str(user.id)
    (session,) = stripe_api.sent("/v1/checkout/sessions")
    assert session["mode"] == "payment" and session["client_reference_id"] == purchase["id"]
    assert session["line_items[0][price_data][unit_amount]"] == "1800"
    assert session["line_items[0][price_data][currency]"] == "usd"
    assert session["payment_intent_data[setup_future_usage]"] == "off_session"
    assert session["success_url"] == "http://localhost/credits?checkout=paid"
    headers_sent = stripe_api.requests[-1][3]
    assert headers_sent["Idempotency-Key"] == f"checkout-{purchase['id']}"
    assert headers_sent["Authorization"] == "Bearer sk_test_folio"
    assert credits.account(user.id).current_balance == 0


def test_one_paid_event_delivered_five_times_credits_once(client, buyer, stripe_api):
    user, headers = buyer
    purchase = _start(client, headers)
    payload, signature = signed(event("checkout.session.completed", _paid_session(purchase, stripe_api)))
    for _ in range(5):
        response = client.post(WEBHOOK, data=payload, headers=signature)
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["data"] == {"received": True, "type": "checkout.session.completed"}
    db.session.expire_all()
    assert credits.account(user.id).current_balance == 2000
    stored = client.get(f"/api/v1/credits/purchases/{purchase['id']}", headers=headers).get_json()["data"]
    assert stored["status"] == "completed" and stored["checkout_url"] is None
    assert credits.check_ledger(user.id) == []


def test_the_intent_and_the_session_events_together_still_credit_once(client, buyer, stripe_api):
    user, headers = buyer
    purchase = _start(client, headers, "starter")
    intent = {
        "id": "pi_checkout_1",
        "object": "payment_intent",
        "status": "succeeded",
        "customer": stripe_api.sent("/v1/checkout/sessions")[-1]["customer"],
        "payment_method": "pm_card_visa",
        "setup_future_usage": "off_session",
        "metadata": {"purchase_id": purchase["id"]},
    }
    for kind, obj in [
        ("payment_intent.succeeded", intent),
        ("checkout.session.completed", _paid_session(purchase, stripe_api)),
    ]:
        payload, signature = signed(event(kind, obj))
        assert client.post(WEBHOOK, data=payload, headers=signature).status_code == 200
    db.session.expire_all()
    account = credits.account(user.id)
    assert account.current_balance == 500
    assert account.payment_method_id == "pm_card_visa" and account.payment_customer_id.startswith("cus_")


@pytest.mark.parametrize(
    "tamper",
    ["other secret", "edited payload", "no header", "stale timestamp", "garbage header"],
)
def test_forged_or_stale_deliveries_are_refused_and_credit_nothing(client, buyer, stripe_api, tamper):
    user, headers = buyer
    purchase = _start(client, headers)
    paid = event("checkout.session.completed", _paid_session(purchase, stripe_api))
    payload, signature = signed(paid)
    if tamper == "other secret":
        payload, signature = signed(paid, secret="whsec_attacker")
    elif tamper == "edited payload":
        payload = payload.replace(b'"paid"', b'"paid" ')
    elif tamper == "no header":
        signature = {"Content-Type": "application/json"}
    elif tamper == "stale timestamp":
        payload, signature = signed(paid, at=int(time.time()) - 3600)
    else:
        signature = {"Stripe-Signature": "t=abc,v1=zzz", "Content-Type": "application/json"}
    response = client.post(WEBHOOK, data=payload, headers=signature)
    assert_json_error(response, 400, "invalid_signature")
    db.session.expire_all()
    assert credits.account(user.id).current_balance == 0


def test_an_expired_checkout_and_an_unknown_event(client, buyer, stripe_api):
    user, headers = buyer
    purchase = _start(client, headers)
    expired = {**_paid_session(purchase, stripe_api), "payment_status": "unpaid", "status": "expired"}
    payload, signature = signed(event("checkout.session.expired", expired))
    assert client.post(WEBHOOK, data=payload, headers=signature).status_code == 200
    payload, signature = signed(event("customer.created", {"id": "cus_x", "object": "customer"}))
    assert client.post(WEBHOOK, data=payload, headers=signature).get_json()["data"]["type"] == "customer.created"
    db.session.expire_all()
    assert db.session.get(CreditPurchase, uuid.UUID(purchase["id"])).status == "expired"
    # Stripe took the money after all (a late "paid"): the member gets the credits, once.
    payload, signature = signed(event("checkout.session.completed", _paid_session(purchase, stripe_api)))
    for _ in range(2):
        client.post(WEBHOOK, data=payload, headers=signature)
    db.session.expire_all()
    assert credits.account(user.id).current_balance == 2000


def test_without_a_webhook_secret_the_endpoint_is_not_there(client, stripe_api, app, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", None)
    payload, signature = signed(event("checkout.session.completed", {"id": "cs_x"}))
    assert_json_error(client.post(WEBHOOK, data=payload, headers=signature), 404, "not_found")


def test_the_buy_button_sends_the_member_to_stripe(client, member, stripe_api):
    token = csrf_token(client, "/credits")
    response = client.post("/credits/buy", data={"pack": "studio", "csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("https://checkout.stripe.test/pay/cs_test_")
    page = client.get("/credits").get_data(as_text=True)
    assert "Card payments by Stripe" in page and "Demo payments" not in page
    back = client.get("/credits?checkout=paid").get_data(as_text=True)
    assert "Thanks! Your payment went through" in back
    assert "nothing was charged" in client.get("/credits?checkout=cancelled").get_data(as_text=True)


def _saved_card(user, card="pm_card_visa"):
    account = credits.account(user.id)
    account.payment_customer_id, account.payment_method_id = "cus_saved", card
    account.auto_refill_enabled, account.refill_threshold, account.refill_amount = True, 100, 500
    credits.add(user.id, 120, "bonus", "Start", source=credits.Source("grant"))
    db.session.commit()


def test_auto_refill_charges_the_saved_card_off_session(client, buyer, stripe_api):
    user, headers = buyer
    _saved_card(user)
    assert client.post("/api/v1/credits/spend", json={"amount": 30}, headers=headers).status_code == 200
    (intent,) = stripe_api.sent("/v1/payment_intents")
    assert intent["off_session"] == "true" and intent["confirm"] == "true"
    assert intent["customer"] == "cus_saved" and intent["payment_method"] == "pm_card_visa"
    assert intent["amount"] == "500" and intent["currency"] == "usd"
    db.session.expire_all()
    assert credits.account(user.id).current_balance == 590
    refill = db.session.scalar(sa.select(CreditPurchase).where(CreditPurchase.automatic.is_(True)))
    assert refill.status == "completed" and refill.provider_reference.startswith("pi_")


def test_a_declined_refill_is_recorded_and_told(client, buyer, stripe_api, caplog):
    user, headers = buyer
    _saved_card(user, DECLINED_CARD)
    caplog.set_level(logging.INFO, logger="folio.notify")
    assert client.post("/api/v1/credits/spend", json={"amount": 30}, headers=headers).status_code == 200
    db.session.expire_all()
    assert credits.account(user.id).current_balance == 90
    refill = db.session.scalar(sa.select(CreditPurchase).where(CreditPurchase.automatic.is_(True)))
    assert refill.status == "failed" and refill.failure_reason == "Your card was declined."
    assert "Auto-refill failed" in caplog.text
    assert credits.account(user.id).refill_requested_at is not None  # retried after a pause, not at once


def test_a_decline_on_the_checkout_page_then_a_payment_still_credits(client, buyer, stripe_api):
    """Stripe lets the member try another card in the same session: the decline is not final."""
    user, headers = buyer
    purchase = _start(client, headers, "starter")
    declined = {
        "id": "pi_checkout_declined",
        "object": "payment_intent",
        "status": "requires_payment_method",
        "metadata": {"purchase_id": purchase["id"]},
        "last_payment_error": {"message": "Your card was declined."},
    }
    for kind, obj in [
        ("payment_intent.payment_failed", declined),
        ("checkout.session.completed", _paid_session(purchase, stripe_api)),
    ]:
        payload, signature = signed(event(kind, obj))
        assert client.post(WEBHOOK, data=payload, headers=signature).status_code == 200
    db.session.expire_all()
    assert credits.account(user.id).current_balance == 500


def test_a_verified_payment_wins_over_an_earlier_failure(app, buyer):
    from webapp.credits import payments

    user, _ = buyer
    purchase = CreditPurchase(
        user_id=user.id, provider="stripe", pack="starter", credits=500, amount_cents=500, currency="usd"
    )
    db.session.add(purchase)
    db.session.flush()
    assert payments.fail(purchase.id, "Stripe did not answer") is True
    assert payments.complete(purchase.id) is not None  # the charge had gone through after all
    assert payments.complete(purchase.id) is None
    db.session.commit()
    assert credits.account(user.id).current_balance == 500


def test_a_declined_refill_is_not_retried_on_every_spend(client, buyer, stripe_api):
    user, headers = buyer
    _saved_card(user, DECLINED_CARD)
    for amount in (30, 5, 5):  # 90, 85, 80: each under the threshold of 100
        assert client.post("/api/v1/credits/spend", json={"amount": amount}, headers=headers).status_code == 200
    assert len(stripe_api.sent("/v1/payment_intents")) == 1  # the claim stays: one charge attempt
    db.session.expire_all()
    assert credits.account(user.id).refill_requested_at is not None


def test_stripe_unreachable_on_the_page_leaves_no_purchase(client, member, stripe_api, app, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", "http://127.0.0.1:9")  # nothing listens there
    token = csrf_token(client, "/credits")
    response = client.post("/credits/buy", data={"pack": "starter", "csrf_token": token})
    assert response.status_code == 303
    assert "Stripe could not start the payment" in client.get("/credits").get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CreditPurchase)) == 0


def test_the_demo_provider_is_refused_in_production(monkeypatch):
    from webapp import create_app
    from webapp.config import Config

    class Production(Config):
        ENV_NAME = "production"
        SECRET_KEY = "x" * 32
        SQLALCHEMY_DATABASE_URI = "sqlite://"
        PAYMENT_PROVIDER = "demo"
        RATELIMIT_STORAGE_URI = "memory://"

    with pytest.raises(RuntimeError, match="PAYMENT_PROVIDER=demo"):
        create_app(Production)
