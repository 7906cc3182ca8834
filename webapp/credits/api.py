"""Credits over JSON: seed 000 §2's paths, with seed 001's token paths as aliases of the same
operations. Spends and purchases take an ``Idempotency-Key``."""

from __future__ import annotations

from flask import Blueprint, request

from webapp.api.endpoint import endpoint, json_body, ok
from webapp.api.ratelimit import Limit
from webapp.credits import CREDITS_GRANT, CREDITS_PURCHASE, CREDITS_READ, CREDITS_SPEND, payments, schemas, service
from webapp.pagination import page_size, window
from webapp.security import client_ip
from webapp.usage.schemas import UsageQuery

bp = Blueprint("credits_api", __name__, url_prefix="/api/v1")

TAG = "Credits"


def source_of(principal) -> service.Source:
    """The ledger names the credential that spent: a key (linked), a token or a browser session."""
    if principal.via == "key":
        return service.Source("api_key", str(principal.api_key_id), principal.api_key_id)
    return service.Source(principal.via)


def _balance(user) -> dict:
    found = service.account(user.id)
    return schemas.balance_json(found, service.monthly_usage(found), service.month_resets_at())


@endpoint(
    bp,
    "GET",
    "/credits/balance",
    scope=CREDITS_READ,
    tag=TAG,
    summary="Your balance, this month's spending and the auto-refill settings",
    response=schemas.BalanceReply,
    aliases=("/tokens",),
)
def balance(principal):
    return ok(_balance(principal.user))


@endpoint(
    bp,
    "GET",
    "/credits/transactions",
    scope=CREDITS_READ,
    tag=TAG,
    summary="The ledger, newest first; page with meta.next_cursor (or offset)",
    response=list[schemas.TransactionReply],
    query=schemas.TransactionListQuery,
    meta=schemas.TransactionListMeta,
)
def list_transactions(principal):
    query = schemas.TransactionListQuery.read(request.args)
    limit, offset = window(query, default_limit=page_size(principal.user))
    rows = service.transactions(
        principal.user.id, limit=limit + 1, type=query.get("type"), offset=offset, after=query.get("cursor")
    )
    shown, has_more = rows[:limit], len(rows) > limit
    next_cursor = schemas.encode_cursor(shown[-1].created_at, shown[-1].id) if has_more else None
    return ok(
        [schemas.transaction_json(row) for row in shown],
        **schemas.TransactionListMeta.of(
            {"limit": limit, "offset": offset, "has_more": has_more, "next_cursor": next_cursor}
        ),
    )


@endpoint(
    bp,
    "GET",
    "/credits/transactions/<transaction_id>",
    scope=CREDITS_READ,
    tag=TAG,
    summary="One ledger row",
    response=schemas.TransactionReply,
)
def get_transaction(principal, transaction_id: str):
    return ok(schemas.transaction_json(service.transaction(principal.user.id, transaction_id)))


@endpoint(
    bp,
    "GET",
    "/credits/usage-history",
    scope=CREDITS_READ,
    tag=TAG,
    summary="Credits used and added per day, for charts",
    response=schemas.UsageHistoryReply,
    query=UsageQuery,
)
def usage_history(principal):
    period, days, _ = UsageQuery.period_of(request.args)
    history = service.daily_history(principal.user.id, days)
    return ok(
        schemas.UsageHistoryReply.of(
            {
                "period": period,
                "total_used": sum(day.used for day in history),
                "total_added": sum(day.added for day in history),
                "days": [{"date": day.day.isoformat(), "used": day.used, "added": day.added} for day in history],
            }
        )
    )


@endpoint(
    bp,
    "PATCH",
    "/credits/auto-refill",
    scope=CREDITS_PURCHASE,
    tag=TAG,
    summary="Turn auto-refill on or off, set its threshold and amount, and the monthly limit",
    body=schemas.AutoRefillChanges,
    response=schemas.BalanceReply,
)
def change_auto_refill(principal):
    service.change_auto_refill(principal.user, json_body())
    return ok(_balance(principal.user))


@endpoint(
    bp,
    "POST",
    "/credits/purchase",
    scope=CREDITS_PURCHASE,
    tag=TAG,
    summary="Buy a credit pack: completed at once (demo provider) or a checkout_url to pay at",
    body=schemas.PurchaseRequest,
    response=schemas.PurchaseReply,
    status=201,
    errors=(503,),
    idempotent=True,
)
def purchase(principal):
    return ok(schemas.purchase_json(payments.start_purchase(principal.user, json_body())), 201)


@endpoint(
    bp,
    "GET",
    "/credits/purchases/<purchase_id>",
    scope=CREDITS_READ,
    tag=TAG,
    summary="One purchase, to follow a checkout until it is paid",
    response=schemas.PurchaseReply,
)
def get_purchase(principal, purchase_id: str):
    return ok(schemas.purchase_json(payments.purchase_of(principal.user, purchase_id)))


@endpoint(
    bp,
    "POST",
    "/credits/spend",
    scope=CREDITS_SPEND,
    tag=TAG,
    summary="Spend credits; 402 when the balance or the monthly limit does not allow it",
    body=schemas.SpendRequest,
    response=schemas.TransactionReply,
    errors=(402,),
    aliases=("/tokens/deduct",),
    idempotent=True,
)
def spend(principal):
    return ok(schemas.transaction_json(service.spend_requested(principal.user.id, json_body(), source_of(principal))))


@endpoint(
    bp,
    "POST",
    "/tokens/add",
    scope=CREDITS_GRANT,
    permission=CREDITS_GRANT,
    tag=TAG,
    summary="Staff: give a member credits (a bonus), yourself by default",
    body=schemas.GrantRequest,
    response=schemas.TransactionReply,
    errors=(404,),
    idempotent=True,
)
def grant(principal):
    return ok(schemas.transaction_json(service.grant(principal.user, json_body())))


# Per sending address, generous: Stripe retries for days with back-off and a burst after an
# outage must not be refused, while junk from one address cannot use up Stripe's budget.
WEBHOOK_LIMIT = Limit("600 per minute", lambda: f"stripe-webhook:{client_ip()}", "stripe-webhook")


@endpoint(
    bp,
    "POST",
    "/credits/webhooks/stripe",
    scope=None,
    public=True,
    limit=WEBHOOK_LIMIT,
    tag=TAG,
    summary="Stripe's webhook: verified by its Stripe-Signature header, credits each payment once",
    response=schemas.WebhookReply,
    errors=(400, 404),
)
def stripe_webhook():
    from webapp.credits import stripe_provider

    event_type = stripe_provider.receive(request.get_data(cache=True), request.headers.get("Stripe-Signature"))
    return ok(schemas.WebhookReply.of({"received": True, "type": event_type}))
