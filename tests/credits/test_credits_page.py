"""The /credits page: buying with the demo provider, the auto-refill form (htmx and plain), the
ledger's filter and pages, the chart's periods, and a query count that does not grow."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.helpers import count_queries, csrf_token, field_error, make_key
from webapp.credits import service as credits
from webapp.credits.models import CreditTransaction
from webapp.extensions import db
from webapp.timeutil import utcnow

HTMX = {"HX-Request": "true"}


def test_the_page_needs_a_sign_in(client):
    response = client.get("/credits")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_a_new_member_sees_empty_states_and_the_demo_label(client, member):
    page = client.get("/credits").get_data(as_text=True)
    assert "No transactions yet" in page and "No credits used in the last 30 days" in page
    assert "Demo payments: no card, no money" in page
    assert page.count('name="pack"') == 3


def test_buying_a_pack_from_the_page_credits_it(client, member):
    token = csrf_token(client, "/credits")
    response = client.post("/credits/buy", data={"pack": "starter", "csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"].endswith("/credits")
    page = client.get("/credits").get_data(as_text=True)
    assert "500 credits added to your balance." in page
    assert "Starter pack: 500 credits" in page and "+500" in page
    assert credits.account(member.id).current_balance == 500


def test_buying_needs_the_csrf_token_and_a_real_pack(client, member):
    assert client.post("/credits/buy", data={"pack": "starter"}).status_code == 400
    token = csrf_token(client, "/credits")
    response = client.post("/credits/buy", data={"pack": "everything", "csrf_token": token})
    assert response.status_code == 303
    assert "Choose a credit pack." in client.get("/credits").get_data(as_text=True)
    assert credits.account(member.id).current_balance == 0


def _refill_form(client, **values):
    data = {"csrf_token": csrf_token(client, "/credits"), "refill_threshold": "100", "refill_amount": "500"}
    return {**data, "monthly_limit": "2000", **values}


def test_auto_refill_saves_over_htmx_and_shows_errors_inline(client, member):
    bad = client.post(
        "/credits/auto-refill", data=_refill_form(client, auto_refill_enabled="y", refill_amount="5000"), headers=HTMX
    )
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert html.lstrip().startswith('<section class="card" aria-labelledby="refill-title" id="auto-refill">')
    assert field_error(html, "refill_amount") == "A refill cannot be larger than the monthly limit."
    fraction = client.post("/credits/auto-refill", data=_refill_form(client, refill_threshold="1.5"), headers=HTMX)
    assert field_error(fraction.get_data(as_text=True), "refill_threshold") == "Must be a whole number."
    assert credits.account(member.id).auto_refill_enabled is False

    good = client.post(
        "/credits/auto-refill", data=_refill_form(client, auto_refill_enabled="y", refill_threshold="150"), headers=HTMX
    )
    assert good.status_code == 200 and "Saved." in good.get_data(as_text=True)
    # The balance card's line is swapped out of band, so it says what the form now says.
    assert 'id="refill-status" hx-swap-oob="true"' in good.get_data(as_text=True)
    assert "Auto-refill adds 500 below 150." in good.get_data(as_text=True)
    db.session.expire_all()
    account = credits.account(member.id)
    assert account.auto_refill_enabled is True and account.refill_threshold == 150


def test_auto_refill_without_htmx_answers_the_whole_page(client, member):
    response = client.post("/credits/auto-refill", data=_refill_form(client, monthly_limit="9999999"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<h1>Credits</h1>" in html and field_error(html, "monthly_limit")


def _ledger_rows(user_id, count: int) -> None:
    """``count`` ledger rows, oldest first, written in one statement (a long history, fast)."""
    start = utcnow() - timedelta(days=1)
    db.session.execute(
        sa.insert(CreditTransaction),
        [
            {
                "id": uuid.uuid4(),
                "user_id": user_id,
                "type": "bonus" if n % 10 == 0 else "usage",
                "description": f"Row {n}",
                "amount": 0,
                "balance_after": 0,
                "status": "completed",
                "created_at": start + timedelta(seconds=n),
            }
            for n in range(count)
        ],
    )
    db.session.commit()


def test_the_ledger_filters_and_pages_in_place(client, member):
    _ledger_rows(member.id, 45)
    first = client.get("/credits/transactions", headers=HTMX).get_data(as_text=True)
    assert first.lstrip().startswith('<section class="card" aria-labelledby="ledger-title" id="ledger">')
    assert "Row 44" in first and "Row 24" not in first and "Older →" in first and "← Newest" not in first
    older = first.split('hx-get="')[-1].split('"')[0].replace("&amp;", "&")
    second = client.get(older, headers=HTMX).get_data(as_text=True)
    assert "Row 24" in second and "Row 44" not in second and "← Newest" in second
    bonuses = client.get("/credits/transactions?type=bonus", headers=HTMX).get_data(as_text=True)
    assert "Row 40" in bonuses and "Row 41" not in bonuses
    # Without htmx, the whole page in the same state; an odd filter or cursor starts at the top.
    page = client.get("/credits/transactions?type=bonus").get_data(as_text=True)
    assert "<h1>Credits</h1>" in page and "Row 40" in page and "Row 41" not in page
    odd = client.get("/credits/transactions?type=nope&cursor=%00garbage", headers=HTMX)
    assert odd.status_code == 200 and "Row 44" in odd.get_data(as_text=True)


def test_the_chart_switches_period_in_place(client, member):
    credits.add(member.id, 100, "bonus", "Start", source=credits.Source("grant"))
    credits.spend(member.id, 30, "Work", source=credits.Source("session"))
    db.session.commit()
    chart = client.get("/credits/history?period=7d", headers=HTMX).get_data(as_text=True)
    assert chart.lstrip().startswith('<section class="card" aria-labelledby="history-title" id="history">')
    assert chart.count('class="chart-bar"') == 1 and "<caption>Credits used per day, last 7 days</caption>" in chart
    assert 'aria-current="true"><span>7 days' in chart
    assert "last 90 days" in client.get("/credits/history?period=90d", headers=HTMX).get_data(as_text=True)
    assert "last 30 days" in client.get("/credits/history?period=1y", headers=HTMX).get_data(as_text=True)


def test_the_ledger_names_the_key_that_spent(client, member):
    key, _ = make_key(member, ["credits:spend"], name="Nightly export")
    credits.add(member.id, 100, "bonus", "Start", source=credits.Source("grant"))
    credits.spend(member.id, 5, "Export", source=credits.Source("api_key", str(key.id), key.id))
    db.session.commit()
    page = client.get("/credits").get_data(as_text=True)
    assert f'href="/settings/api-keys#key-{key.id}">key “Nightly export”</a>' in page


def test_another_members_ledger_never_shows(client, member, make_user):
    other = make_user(email="other@example.com")
    credits.add(other.id, 999, "bonus", "Their secret bonus", source=credits.Source("grant"))
    db.session.commit()
    assert "Their secret bonus" not in client.get("/credits").get_data(as_text=True)
    assert "Their secret bonus" not in client.get("/credits/transactions", headers=HTMX).get_data(as_text=True)


@pytest.mark.parametrize("path", ["/credits", "/credits/transactions", "/dashboard/cards/credits"])
def test_page_queries_do_not_grow_with_the_ledger(client, member, path):
    headers = HTMX if "cards" in path else {}
    _ledger_rows(member.id, 10)
    with count_queries() as small:
        assert client.get(path, headers=headers).status_code == 200
    _ledger_rows(member.id, 10_000)
    with count_queries() as large:
        assert client.get(path, headers=headers).status_code == 200
    assert len(large) == len(small), large
    assert len(small) <= 8, small


def test_the_dashboard_card_shows_balance_and_spending(client, member):
    credits.add(member.id, 1200, "bonus", "Start", source=credits.Source("grant"))
    credits.spend(member.id, 70, "Work", source=credits.Source("session"))
    db.session.commit()
    card = client.get("/dashboard/cards/credits", headers=HTMX).get_data(as_text=True)
    assert "<dd>1,130</dd>" in card and "<dd>70</dd>" in card and "Buy credits" in card
    assert "Credits used per day, last 14 days" in card
