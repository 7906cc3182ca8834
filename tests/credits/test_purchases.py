"""Buying packs with the demo provider, idempotent replays, and auto-refill."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from tests.helpers import assert_json_error, bearer, make_key, table_counts
from webapp.api.models import IdempotencyKey
from webapp.credits import payments
from webapp.credits import service as credits
from webapp.credits.models import CreditPurchase, CreditTransaction
from webapp.extensions import db

USAGE = ("usage_metrics",)  # every API call is counted, refused or not


@pytest.fixture
def buyer(make_user):
    user = make_user(email="buyer@example.com")
    _, secret = make_key(user, ["credits:read", "credits:spend", "credits:purchase"])
    return user, bearer(secret)


def test_buying_a_pack_with_the_demo_provider_credits_it_at_once(client, buyer):
    user, headers = buyer
    response = client.post("/api/v1/credits/purchase", json={"pack": "growth"}, headers=headers)
    assert response.status_code == 201, response.get_json()
    purchase = response.get_json()["data"]
    assert purchase["provider"] == "demo" and purchase["status"] == "completed"
    assert purchase["credits"] == 2000 and purchase["amount_cents"] == 1800 and purchase["currency"] == "usd"
    assert purchase["checkout_url"] is None and purchase["transaction_id"]
    row = client.get(f"/api/v1/credits/transactions/{purchase['transaction_id']}", headers=headers).get_json()["data"]
    assert row["type"] == "purchase" and row["amount"] == 2000 and row["balance_after"] == 2000
    assert row["source_type"] == "purchase" and row["source_id"] == purchase["id"]
    again = client.get(f"/api/v1/credits/purchases/{purchase['id']}", headers=headers).get_json()["data"]
    assert again == purchase
    assert credits.check_ledger(user.id) == []


def test_an_unknown_pack_is_a_422_naming_the_packs(client, buyer):
    _, headers = buyer
    error = assert_json_error(client.post("/api/v1/credits/purchase", json={"pack": "huge"}, headers=headers), 422)
    assert error["details"]["pack"] == ["Choose one of: starter, growth, studio."]


def test_without_a_payment_provider_buying_is_a_503(client, buyer, app, monkeypatch):
    _, headers = buyer
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER", None)
    before = table_counts(ignore=USAGE)
    response = client.post("/api/v1/credits/purchase", json={"pack": "starter"}, headers=headers)
    assert_json_error(response, 503, "payments_unavailable")
    assert table_counts(ignore=USAGE) == before


def test_completing_a_purchase_twice_credits_it_once(app, buyer):
    user, _ = buyer
    purchase = CreditPurchase(
        user_id=user.id, provider="demo", pack="starter", credits=500, amount_cents=500, currency="usd"
    )
    db.session.add(purchase)
    db.session.flush()
    assert payments.complete(purchase.id) is not None
    for _ in range(4):
        assert payments.complete(purchase.id) is None
    db.session.commit()
    assert credits.account(user.id).current_balance == 500
    assert payments.fail(purchase.id, "late decline") is False  # a paid purchase stays paid


# --- Idempotency-Key --------------------------------------------------------------------------


def test_a_replayed_spend_answers_the_first_answer_and_writes_nothing(client, buyer):
    user, headers = buyer
    credits.add(user.id, 100, "bonus", "Start", source=credits.Source("grant"))
    db.session.commit()
    keyed = {**headers, "Idempotency-Key": "order-42"}
    first = client.post("/api/v1/credits/spend", json={"amount": 10, "description": "Export"}, headers=keyed)
    assert first.status_code == 200 and "Idempotent-Replayed" not in first.headers
    before = table_counts(ignore=USAGE)
    # The same request, its keys in another order and with other whitespace.
    replay = client.post(
        "/api/v1/credits/spend",
        data='{ "description": "Export",  "amount": 10 }',
        headers={**keyed, "Content-Type": "application/json"},
    )
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json() == first.get_json()
    assert table_counts(ignore=USAGE) == before
    assert credits.account(user.id).current_balance == 90


def test_the_same_key_with_another_body_is_refused(client, buyer):
    user, headers = buyer
    credits.add(user.id, 100, "bonus", "Start", source=credits.Source("grant"))
    db.session.commit()
    keyed = {**headers, "Idempotency-Key": "order-43"}
    assert client.post("/api/v1/credits/spend", json={"amount": 10}, headers=keyed).status_code == 200
    other = client.post("/api/v1/credits/spend", json={"amount": 11}, headers=keyed)
    assert_json_error(other, 422, "idempotency_mismatch")
    elsewhere = client.post("/api/v1/credits/purchase", json={"amount": 10}, headers=keyed)
    assert_json_error(elsewhere, 422)
    assert credits.account(user.id).current_balance == 90


def test_keys_belong_to_their_member(client, buyer, make_user):
    user, headers = buyer
    other = make_user(email="other@example.com")
    _, other_secret = make_key(other, ["credits:purchase"])
    keyed = {"Idempotency-Key": "same-string"}
    mine = client.post("/api/v1/credits/purchase", json={"pack": "starter"}, headers={**headers, **keyed})
    theirs = client.post(
        "/api/v1/credits/purchase", json={"pack": "starter"}, headers={**bearer(other_secret), **keyed}
    )
    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers
    assert mine.get_json()["data"]["id"] != theirs.get_json()["data"]["id"]
    assert credits.account(other.id).current_balance == 500


def test_a_refused_request_keeps_no_answer_so_it_can_be_retried(client, buyer):
    user, headers = buyer
    keyed = {**headers, "Idempotency-Key": "retry-me"}
    assert_json_error(client.post("/api/v1/credits/spend", json={"amount": 10}, headers=keyed), 402)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IdempotencyKey)) == 0
    credits.add(user.id, 10, "bonus", "Top-up", source=credits.Source("grant"))
    db.session.commit()
    assert client.post("/api/v1/credits/spend", json={"amount": 10}, headers=keyed).status_code == 200


@pytest.mark.parametrize("key", ["", "has space", "é", "x" * 256, "tab\there"])
def test_a_malformed_key_is_a_422(client, buyer, key):
    _, headers = buyer
    response = client.post(
        "/api/v1/credits/purchase", json={"pack": "starter"}, headers={**headers, "Idempotency-Key": key}
    )
    assert "Idempotency-Key" in assert_json_error(response, 422, "validation_failed")["details"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CreditPurchase)) == 0


def test_an_expired_key_may_be_used_afresh(client, buyer, app):
    from datetime import timedelta

    from webapp.api import idempotency

    user, headers = buyer
    keyed = {**headers, "Idempotency-Key": "old"}
    assert client.post("/api/v1/credits/purchase", json={"pack": "starter"}, headers=keyed).status_code == 201
    row = db.session.scalar(sa.select(IdempotencyKey))
    row.created_at -= timedelta(hours=app.config["IDEMPOTENCY_KEY_HOURS"] + 1)
    db.session.commit()
    again = client.post("/api/v1/credits/purchase", json={"pack": "starter"}, headers=keyed)
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert credits.account(user.id).current_balance == 1000
    row = db.session.scalar(sa.select(IdempotencyKey))
    row.created_at -= timedelta(hours=app.config["IDEMPOTENCY_KEY_HOURS"] + 1)
    db.session.commit()
    assert idempotency.purge_expired() == 1


# --- Auto-refill ------------------------------------------------------------------------------


def test_auto_refill_settings_are_checked_together(client, buyer):
    user, headers = buyer
    response = client.patch(
        "/api/v1/credits/auto-refill",
        json={"auto_refill_enabled": True, "refill_threshold": 50, "refill_amount": 500, "monthly_limit": 1500},
        headers=headers,
    )
    assert response.status_code == 200, response.get_json()
    data = response.get_json()["data"]
    assert data["auto_refill_enabled"] is True and data["refill_threshold"] == 50 and data["monthly_limit"] == 1500
    too_big = client.patch("/api/v1/credits/auto-refill", json={"refill_amount": 2000}, headers=headers)
    assert assert_json_error(too_big, 422)["details"]["refill_amount"] == [
        "A refill cannot be larger than the monthly limit."
    ]
    past_plan = client.patch("/api/v1/credits/auto-refill", json={"monthly_limit": 999_999}, headers=headers)
    assert "Your plan allows at most 5,000" in assert_json_error(past_plan, 422)["details"]["monthly_limit"][0]
    assert credits.account(user.id).refill_amount == 500


def test_a_spend_under_the_threshold_refills_once(client, buyer):
    user, headers = buyer
    credits.add(user.id, 120, "bonus", "Start", source=credits.Source("grant"))
    account = credits.account(user.id)
    account.auto_refill_enabled, account.refill_threshold, account.refill_amount = True, 100, 500
    db.session.commit()
    assert client.post("/api/v1/credits/spend", json={"amount": 10}, headers=headers).status_code == 200
    assert credits.account(user.id).current_balance == 110  # still above the threshold
    spent = client.post("/api/v1/credits/spend", json={"amount": 20}, headers=headers)
    assert spent.get_json()["data"]["balance_after"] == 90
    db.session.expire_all()
    data = client.get("/api/v1/credits/balance", headers=headers).get_json()["data"]
    assert data["current_balance"] == 590 and data["refill_pending"] is False
    refill = db.session.scalar(sa.select(CreditPurchase).where(CreditPurchase.automatic.is_(True)))
    assert refill.status == "completed" and refill.credits == 500 and refill.amount_cents == 500
    assert credits.check_ledger(user.id) == []
    types = db.session.scalars(sa.select(CreditTransaction.type).order_by(CreditTransaction.created_at)).all()
    assert types == ["bonus", "usage", "usage", "purchase"]


def test_auto_refill_stops_at_the_monthly_limit(client, buyer, caplog):
    user, headers = buyer
    credits.add(user.id, 120, "bonus", "Start", source=credits.Source("grant"))
    account = credits.account(user.id)
    account.auto_refill_enabled, account.refill_threshold, account.refill_amount = True, 100, 500
    account.monthly_limit = 800
    db.session.commit()
    client.post("/api/v1/credits/spend", json={"amount": 30}, headers=headers)  # refills 500 (500 of 800)
    assert credits.account(user.id).current_balance == 590
    caplog.clear()
    caplog.set_level(logging.INFO, logger="folio.notify")
    client.post("/api/v1/credits/spend", json={"amount": 500}, headers=headers)  # 90 left: 1000 > 800
    db.session.expire_all()
    assert credits.account(user.id).current_balance == 90
    assert "Auto-refill paused for this month" in caplog.text
    assert db.session.scalar(sa.select(sa.func.count()).where(CreditPurchase.automatic.is_(True))) == 1
