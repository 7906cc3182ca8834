"""The ledger's rules over the API: every change one row with the balance after it, refusals
that write nothing, amounts refused whole, the monthly limit, and seed 001's token paths."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.helpers import assert_json_error, bearer, make_key, make_staff, table_counts
from webapp.credits import service as credits
from webapp.credits.models import CreditAccount, CreditTransaction
from webapp.credits.schemas import encode_cursor
from webapp.extensions import db
from webapp.timeutil import utcnow
from webapp.usage.models import UsageMetric

USAGE = ("usage_metrics",)  # every API call is counted, refused or not


@pytest.fixture
def spender(make_user):
    """A member with 100 credits and a key that may spend and read them."""
    user = make_user(email="spender@example.com")
    credits.add(user.id, 100, "bonus", "Welcome credits", source=credits.Source("grant"))
    db.session.commit()
    key, secret = make_key(user, ["credits:read", "credits:spend", "credits:purchase"], name="Billing script")
    return user, key, bearer(secret)


def balance(client, headers) -> dict:
    response = client.get("/api/v1/credits/balance", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def test_a_new_member_starts_with_an_empty_account(client, make_user):
    user = make_user()
    account = db.session.scalar(sa.select(CreditAccount).where(CreditAccount.user_id == user.id))
    assert account is not None and account.current_balance == 0
    _, secret = make_key(user, ["credits:read"])
    data = balance(client, bearer(secret))
    assert data["current_balance"] == data["token"] == 0
    assert data["monthly_limit"] == 2000 and data["auto_refill_enabled"] is False


def test_a_spend_writes_one_row_with_the_balance_after_and_names_its_key(client, spender):
    user, key, headers = spender
    response = client.post(
        "/api/v1/credits/spend",
        json={"amount": 30, "description": "Image analysis", "metadata": {"job": "j-1", "images": 3}},
        headers=headers,
    )
    assert response.status_code == 200, response.get_json()
    row = response.get_json()["data"]
    assert row["type"] == "usage" and row["amount"] == -30 and row["balance_after"] == 70
    assert row["description"] == "Image analysis" and row["metadata"] == {"job": "j-1", "images": 3}
    assert row["source_type"] == "api_key" and row["api_key_id"] == str(key.id) == row["source_id"]
    data = balance(client, headers)
    assert data["current_balance"] == 70 and data["monthly_usage"] == 30
    assert data["average_daily_usage"] == round(30 / utcnow().date().day, 2)
    assert credits.check_ledger(user.id) == []
    day = db.session.scalar(sa.select(UsageMetric).where(UsageMetric.user_id == user.id))
    assert (day.credits_used, day.credits_added) == (30, 100)


def test_an_overdraft_is_402_and_writes_nothing(client, spender):
    user, _, headers = spender
    before = table_counts(ignore=USAGE)
    response = client.post("/api/v1/credits/spend", json={"amount": 101}, headers=headers)
    error = assert_json_error(response, 402, "insufficient_credits")
    assert error["details"] == {"balance": 100, "required": 101}
    assert "101" in error["message"] and "100" in error["message"]
    assert table_counts(ignore=USAGE) == before
    assert balance(client, headers)["current_balance"] == 100


@pytest.mark.parametrize(
    "amount", [0, -5, 1.5, 0.1, "10", True, None, [1], {"n": 1}, 10**7, 2**31, 2**63, 10**29, -(10**29)]
)
def test_odd_amounts_are_refused_whole(client, spender, amount):
    user, _, headers = spender
    response = client.post("/api/v1/credits/spend", json={"amount": amount}, headers=headers)
    error = assert_json_error(response, 422, "validation_failed")
    assert list(error["details"]) == ["amount"], error
    assert balance(client, headers)["current_balance"] == 100
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CreditTransaction)) == 1


@pytest.mark.parametrize(
    "body",
    [
        '{"amount": Infinity}',
        '{"amount": NaN}',
        '{"amount": 1e400}',
        '{"amount": 5, "description": "\\ud800"}',
        "[" * 5000 + "]" * 5000,
        '{"amount": 5, "amount": 6}',
    ],
)
def test_adversarial_json_is_a_422_not_a_500(client, spender, body):
    _, _, headers = spender
    response = client.post("/api/v1/credits/spend", data=body, headers={**headers, "Content-Type": "application/json"})
    assert_json_error(response, 422, "validation_failed")
    assert balance(client, headers)["current_balance"] == 100


@pytest.mark.parametrize(
    "metadata, problem",
    [
        ({"nested": {"a": 1}}, "only text, numbers"),
        ({"list": [1, 2]}, "only text, numbers"),
        ({f"k{i}": i for i in range(21)}, "At most 20 keys"),
        ({"k" * 41: 1}, "1 to 40 characters"),
        ({"note": "x" * 501}, "at most 500"),
        ("a string", "Must be an object"),
    ],
)
def test_metadata_is_a_small_flat_object(client, spender, metadata, problem):
    _, _, headers = spender
    response = client.post("/api/v1/credits/spend", json={"amount": 1, "metadata": metadata}, headers=headers)
    error = assert_json_error(response, 422, "validation_failed")
    assert problem in error["details"]["metadata"][0]


def test_the_monthly_limit_refuses_with_its_reset_date(client, spender):
    user, _, headers = spender
    account = credits.account(user.id)
    account.monthly_limit = 50
    db.session.commit()
    assert client.post("/api/v1/credits/spend", json={"amount": 40}, headers=headers).status_code == 200
    response = client.post("/api/v1/credits/spend", json={"amount": 11}, headers=headers)
    error = assert_json_error(response, 402, "monthly_limit_reached")
    assert error["details"]["monthly_limit"] == 50 and error["details"]["monthly_usage"] == 40
    assert error["details"]["resets_at"] == credits.month_resets_at().isoformat()
    assert client.post("/api/v1/credits/spend", json={"amount": 10}, headers=headers).status_code == 200
    assert balance(client, headers)["current_balance"] == 50


def test_a_new_month_starts_the_monthly_usage_again(client, spender):
    user, _, headers = spender
    account = credits.account(user.id)
    account.monthly_limit, account.monthly_usage = 50, 50
    account.usage_month = (credits.month_start(utcnow().date()) - timedelta(days=1)).replace(day=1)  # last month
    db.session.commit()
    assert balance(client, headers)["monthly_usage"] == 0
    assert client.post("/api/v1/credits/spend", json={"amount": 20}, headers=headers).status_code == 200
    data = balance(client, headers)
    assert data["monthly_usage"] == 20 and data["current_balance"] == 80


def test_seed_001s_token_paths_are_the_same_balance(client, spender):
    _, _, headers = spender
    tokens = client.get("/api/v1/tokens", headers=headers)
    assert tokens.status_code == 200 and tokens.get_json()["data"]["token"] == 100
    deducted = client.post("/api/v1/tokens/deduct", json={"amount": 7}, headers=headers)
    assert deducted.status_code == 200 and deducted.get_json()["data"]["balance_after"] == 93
    assert balance(client, headers)["current_balance"] == 93


def test_only_staff_may_add_tokens(client, spender, make_user):
    user, _, headers = spender
    response = client.post("/api/v1/tokens/add", json={"amount": 1000}, headers=headers)
    assert_json_error(response, 403, "insufficient_scope")
    # A member's key cannot even be given the staff scope.
    from webapp.api import scopes

    assert "credits:grant" not in scopes.available_to(user)

    staff = make_staff(make_user(email="staff@example.com"))
    _, staff_secret = make_key(staff, ["credits:grant"])
    granted = client.post(
        "/api/v1/tokens/add",
        json={"amount": 250, "user_id": str(user.id), "description": "Sorry for the outage"},
        headers=bearer(staff_secret),
    )
    assert granted.status_code == 200, granted.get_json()
    row = granted.get_json()["data"]
    assert row["type"] == "bonus" and row["balance_after"] == 350 and row["source_type"] == "grant"
    assert row["source_id"] == str(staff.id)
    missing = client.post(
        "/api/v1/tokens/add",
        json={"amount": 1, "user_id": "00000000-0000-0000-0000-000000000000"},
        headers=bearer(staff_secret),
    )
    assert_json_error(missing, 404, "not_found")


def test_a_support_role_without_the_permission_cannot_grant(client, make_user):
    support = make_staff(make_user(email="support@example.com"), role="support")
    from webapp.api import scopes

    assert "credits:grant" not in scopes.available_to(support)


def test_transactions_page_by_cursor_and_by_offset(client, spender):
    user, _, headers = spender
    for number in range(1, 8):
        credits.spend(user.id, number, f"Spend {number}", source=credits.Source("job"))
    db.session.commit()
    seen, cursor = [], None
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/credits/transactions", query_string=query, headers=headers).get_json()
        seen += [row["description"] for row in page["data"]]
        cursor = page["meta"]["next_cursor"]
        assert page["meta"]["has_more"] is (cursor is not None)
        if not cursor:
            break
    assert seen == [f"Spend {n}" for n in range(7, 0, -1)] + ["Welcome credits"]
    by_offset = client.get("/api/v1/credits/transactions?limit=2&offset=2", headers=headers).get_json()
    assert [row["description"] for row in by_offset["data"]] == ["Spend 5", "Spend 4"]
    only = client.get("/api/v1/credits/transactions?type=bonus", headers=headers).get_json()
    assert [row["type"] for row in only["data"]] == ["bonus"]
    a_cursor = encode_cursor(utcnow(), uuid.uuid4())
    both = client.get("/api/v1/credits/transactions", query_string={"offset": 1, "cursor": a_cursor}, headers=headers)
    assert "offset" in assert_json_error(both, 422, "validation_failed")["details"]


@pytest.mark.parametrize("cursor", ["nonsense", "bm90fGE", "MjAyNi0wMS0wMXxub3QtYS11dWlk", "%00", "x" * 300])
def test_a_forged_cursor_is_a_422(client, spender, cursor):
    _, _, headers = spender
    response = client.get("/api/v1/credits/transactions", query_string={"cursor": cursor}, headers=headers)
    assert "cursor" in assert_json_error(response, 422, "validation_failed")["details"]


def test_usage_history_adds_up_to_the_ledger(client, spender):
    user, _, headers = spender
    for amount in (5, 10, 15):
        credits.spend(user.id, amount, "Work", source=credits.Source("job"))
    db.session.commit()
    history = client.get("/api/v1/credits/usage-history?period=7d", headers=headers).get_json()["data"]
    assert history["period"] == "7d" and len(history["days"]) == 7
    assert history["days"][-1] == {"date": utcnow().date().isoformat(), "used": 30, "added": 100}
    spent = -db.session.scalar(
        sa.select(sa.func.sum(CreditTransaction.amount)).where(CreditTransaction.type == "usage")
    )
    assert history["total_used"] == spent == 30
    assert client.get("/api/v1/credits/usage-history", headers=headers).get_json()["data"]["period"] == "30d"
    assert_json_error(client.get("/api/v1/credits/usage-history?period=1y", headers=headers), 422)


def test_scopes_guard_every_credits_route(client, make_user):
    user = make_user()
    _, read_only = make_key(user, ["credits:read"])
    assert_json_error(client.post("/api/v1/credits/spend", json={"amount": 1}, headers=bearer(read_only)), 403)
    assert_json_error(client.post("/api/v1/credits/purchase", json={"pack": "starter"}, headers=bearer(read_only)), 403)
    assert_json_error(client.patch("/api/v1/credits/auto-refill", json={}, headers=bearer(read_only)), 403)
    _, profile_only = make_key(user, ["profile:read"])
    assert_json_error(client.get("/api/v1/credits/balance", headers=bearer(profile_only)), 403)
