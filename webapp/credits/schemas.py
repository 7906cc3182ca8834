"""Credits: what spending, buying, granting and the auto-refill settings accept, and what the
API answers about a balance, a ledger row and a purchase."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from webapp import rules
from webapp.config import CREDIT_PACKS
from webapp.contracts import Contract, OptionalTimestamp, Reply, Timestamp
from webapp.credits.models import TRANSACTION_TYPES
from webapp.pagination import ListQuery

MAX_CREDITS = 1_000_000  # the most one spend, grant or refill moves; balances stay far from 2**31

Amount = rules.Integer(1, MAX_CREDITS, description="Credits, a whole number")
Description = rules.Text(500)


def _member_id(value: Any) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(rules.exact(36, required=True)(value))
    except ValueError:
        raise ValueError("Must be a member's id (a UUID).") from None


MemberId = rules.rule(_member_id, {"type": "string", "format": "uuid", "description": "The member; you by default"})


Pack = rules.Choice(tuple(CREDIT_PACKS), description="A credit pack")


class SpendRequest(Contract):
    """``POST /credits/spend`` (and seed 001's ``/tokens/deduct``, which sends the amount alone)."""

    amount: Amount
    description: Description = None
    metadata: rules.Metadata = None


class GrantRequest(Contract):
    """``POST /tokens/add``: staff give credits (a bonus); no member can mint their own."""

    amount: Amount
    user_id: MemberId = None
    description: Description = None
    metadata: rules.Metadata = None


class PurchaseRequest(Contract):
    pack: Pack


class AutoRefillChanges(Contract):
    """The auto-refill settings and the monthly limit; needs ``plan_limit`` and the ``account``
    in the context (a change is checked against the settings it leaves in place)."""

    auto_refill_enabled: rules.Boolean = None
    refill_threshold: rules.Integer(0, MAX_CREDITS, description="Refill when the balance falls below this") = None
    refill_amount: rules.Integer(1, MAX_CREDITS, description="Credits each refill buys") = None
    monthly_limit: rules.Integer(0, MAX_CREDITS, description="Most credits spent, and refilled, in a month") = None

    @classmethod
    def problems(cls, cleaned: dict[str, Any], context: dict[str, Any]) -> dict[str, list[str]]:
        account = context["account"]
        limit = cleaned.get("monthly_limit", account.monthly_limit)
        problems: dict[str, list[str]] = {}
        if "monthly_limit" in cleaned and limit > context["plan_limit"]:
            problems["monthly_limit"] = [f"Your plan allows at most {context['plan_limit']:,} credits a month."]
        if cleaned.get("refill_amount", account.refill_amount) > limit and (
            cleaned.get("auto_refill_enabled", account.auto_refill_enabled)
        ):
            field = "refill_amount" if "refill_amount" in cleaned else "monthly_limit"
            problems.setdefault(field, []).append("A refill cannot be larger than the monthly limit.")
        return problems


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    """An opaque place in the ledger: the (created_at, id) of the last row a page showed."""
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{row_id}".encode()).decode().rstrip("=")


def decode_cursor(value: Any) -> tuple[datetime, uuid.UUID] | None:
    if value is None:
        return None
    try:
        raw = rules.exact(200, required=True)(value)
        created, _, row_id = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode().partition("|")
        moment = datetime.fromisoformat(created)
        if moment.tzinfo is None:
            raise ValueError
        return moment, uuid.UUID(row_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValueError("Not a cursor from this list: pass meta.next_cursor as it came.") from None


Cursor = rules.rule(decode_cursor, {"type": "string", "description": "meta.next_cursor of the page before"})


class TransactionListQuery(ListQuery):
    """A window of the ledger: by ``cursor`` (any depth costs the same) or by ``offset`` (seed
    000's clients)."""

    cursor: Cursor = None
    type: rules.Choice(TRANSACTION_TYPES, description="Only this kind of row", in_query=True) = None

    @classmethod
    def problems(cls, cleaned: dict[str, Any], context: dict[str, Any]) -> dict[str, list[str]]:
        if cleaned.get("cursor") and cleaned.get("offset"):
            return {"offset": ["Give a cursor or an offset, not both."]}
        return {}


class BalanceReply(Reply):
    current_balance: int
    token: int = Field(description="The same balance, as seed 001's token clients read it")
    monthly_usage: int = Field(description="Credits spent this month (UTC)")
    monthly_limit: int
    monthly_resets_at: Timestamp
    average_daily_usage: float = Field(description="This month's credits spent per day")
    auto_refill_enabled: bool
    refill_threshold: int
    refill_amount: int
    refill_pending: bool = Field(description="An auto-refill is on its way")
    created_at: Timestamp
    updated_at: Timestamp


class TransactionReply(Reply):
    id: str = Field(json_schema_extra={"format": "uuid"})
    type: Literal["purchase", "usage", "refund", "bonus"]
    description: str
    amount: int = Field(description="Signed: a spend is negative")
    balance_after: int
    status: Literal["completed", "pending", "failed"]
    metadata: dict[str, Any] | None
    source_type: str | None = Field(description="What caused it: api_key, session, purchase, grant, job")
    source_id: str | None
    api_key_id: str | None
    created_at: Timestamp


class TransactionListMeta(Reply):
    limit: int
    offset: int
    has_more: bool
    next_cursor: str | None = Field(description="Pass as cursor for the next (older) page")


class UsageDay(Reply):
    date: str = Field(json_schema_extra={"format": "date"})
    used: int
    added: int


class UsageHistoryReply(Reply):
    period: Literal["7d", "30d", "90d"]
    total_used: int
    total_added: int
    days: list[UsageDay]


class PurchaseReply(Reply):
    id: str = Field(json_schema_extra={"format": "uuid"})
    provider: Literal["demo", "stripe"]
    pack: str | None
    credits: int
    amount_cents: int
    currency: str
    status: Literal["pending", "completed", "failed", "expired"]
    automatic: bool
    checkout_url: str | None = Field(description="Where to pay (Stripe); null once paid or with the demo provider")
    transaction_id: str | None
    created_at: Timestamp
    completed_at: OptionalTimestamp


class WebhookReply(Reply):
    received: bool
    type: str = Field(description="The event's type, handled or not")


def _iso(value):
    return value.isoformat() if value else None


def balance_json(account, monthly_usage: int, resets_at: datetime) -> dict[str, Any]:
    return BalanceReply.of(
        {
            "current_balance": account.current_balance,
            "token": account.current_balance,
            "monthly_usage": monthly_usage,
            "monthly_limit": account.monthly_limit,
            "monthly_resets_at": resets_at.isoformat(),
            "average_daily_usage": float(account.average_daily_usage or 0),
            "auto_refill_enabled": account.auto_refill_enabled,
            "refill_threshold": account.refill_threshold,
            "refill_amount": account.refill_amount,
            "refill_pending": account.refill_requested_at is not None,
            "created_at": account.created_at.isoformat(),
            "updated_at": account.updated_at.isoformat(),
        }
    )


def transaction_json(entry) -> dict[str, Any]:
    return TransactionReply.of(
        {
            "id": str(entry.id),
            "type": entry.type,
            "description": entry.description,
            "amount": entry.amount,
            "balance_after": entry.balance_after,
            "status": entry.status,
            "metadata": entry.details,
            "source_type": entry.source_type,
            "source_id": entry.source_id,
            "api_key_id": str(entry.api_key_id) if entry.api_key_id else None,
            "created_at": entry.created_at.isoformat(),
        }
    )


def purchase_json(purchase) -> dict[str, Any]:
    return PurchaseReply.of(
        {
            "id": str(purchase.id),
            "provider": purchase.provider,
            "pack": purchase.pack,
            "credits": purchase.credits,
            "amount_cents": purchase.amount_cents,
            "currency": purchase.currency,
            "status": purchase.status,
            "automatic": purchase.automatic,
            "checkout_url": purchase.checkout_url if purchase.status == "pending" else None,
            "transaction_id": str(purchase.transaction_id) if purchase.transaction_id else None,
            "created_at": purchase.created_at.isoformat(),
            "completed_at": _iso(purchase.completed_at),
        }
    )
