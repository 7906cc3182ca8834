"""Seed 000 §2's credit account and ledger, seed 001's token balance, and the purchases that
feed them.

Seed 001's ``user_tokens`` (one row per member: ``token``, ``created_at``, ``updated_at``) is
the same balance as ``credit_accounts.current_balance``: one account per member, never two
balances that could disagree. ``GET /api/v1/tokens`` reads it as ``token``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from webapp.extensions import db
from webapp.timeutil import utcnow

TRANSACTION_TYPES = ("purchase", "usage", "refund", "bonus")


class CreditAccount(db.Model):
    """A member's balance, this month's spending and the auto-refill settings.

    ``monthly_usage`` counts the credits spent in ``usage_month`` (a month's first day, UTC); a
    spend in a later month starts it again, in the same atomic update that spends."""

    __tablename__ = "credit_accounts"

    id: so.Mapped[uuid.UUID] = so.mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    current_balance: so.Mapped[int] = so.mapped_column(default=0)
    monthly_usage: so.Mapped[int] = so.mapped_column(default=0)
    usage_month: so.Mapped[date | None]
    average_daily_usage: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(10, 2), default=Decimal("0"))
    auto_refill_enabled: so.Mapped[bool] = so.mapped_column(default=False)
    refill_threshold: so.Mapped[int] = so.mapped_column(default=100)
    refill_amount: so.Mapped[int] = so.mapped_column(default=500)
    monthly_limit: so.Mapped[int] = so.mapped_column(default=2000)
    # Set while an auto-refill is on its way, so that one spend after another queues one refill.
    refill_requested_at: so.Mapped[datetime | None]
    # The payment provider's customer and the card saved at the first checkout (Stripe's
    # ``cus_…`` and ``pm_…``), which auto-refill charges off-session.
    payment_customer_id: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    payment_method_id: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint("current_balance >= 0", name="balance_not_negative"),
        sa.CheckConstraint("monthly_usage >= 0", name="monthly_usage_not_negative"),
        sa.CheckConstraint("refill_threshold >= 0", name="refill_threshold"),
        sa.CheckConstraint("refill_amount > 0", name="refill_amount"),
        sa.CheckConstraint("monthly_limit >= 0", name="monthly_limit"),
    )


class CreditTransaction(db.Model):
    """One change of a balance, with the balance after it: the ledger explains every credit.

    ``amount`` is signed (a spend is negative), so the amounts of a member's completed rows add up
    to their balance. ``source_type``/``source_id`` name what caused the row: an API key, a job,
    a purchase, a staff grant."""

    __tablename__ = "credit_transactions"

    id: so.Mapped[uuid.UUID] = so.mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    type: so.Mapped[str] = so.mapped_column(sa.String(20))
    description: so.Mapped[str] = so.mapped_column(sa.Text)
    amount: so.Mapped[int]
    balance_after: so.Mapped[int]
    status: so.Mapped[str] = so.mapped_column(sa.String(20), default="completed")
    # "metadata" is taken on declarative classes; the column keeps the seed's name.
    details: so.Mapped[dict[str, Any] | None] = so.mapped_column("metadata", sa.JSON)
    source_type: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    source_id: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    api_key_id: so.Mapped[uuid.UUID | None] = so.mapped_column(sa.ForeignKey("api_keys.id", ondelete="SET NULL"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    __table_args__ = (
        # The ledger pages by (created_at, id), whole or by type: both walks are index scans.
        sa.Index("ix_credit_transactions_user_created", "user_id", "created_at", "id"),
        sa.Index("ix_credit_transactions_user_type_created", "user_id", "type", "created_at", "id"),
        sa.Index("ix_credit_transactions_api_key", "api_key_id"),
        sa.CheckConstraint("type IN ('purchase', 'usage', 'refund', 'bonus')", name="type"),
        sa.CheckConstraint("status IN ('completed', 'pending', 'failed')", name="status"),
        sa.CheckConstraint("balance_after >= 0", name="balance_after_not_negative"),
    )


class CreditPurchase(db.Model):
    """A pack bought (or being bought) through a payment provider.

    It is credited once: only the move from ``pending`` to ``completed`` writes the ledger row,
    and that move is a conditional update, so a webhook delivered five times credits once."""

    __tablename__ = "credit_purchases"

    id: so.Mapped[uuid.UUID] = so.mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    provider: so.Mapped[str] = so.mapped_column(sa.String(20))
    pack: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    credits: so.Mapped[int]
    amount_cents: so.Mapped[int]
    currency: so.Mapped[str] = so.mapped_column(sa.String(3))
    status: so.Mapped[str] = so.mapped_column(sa.String(20), default="pending")
    automatic: so.Mapped[bool] = so.mapped_column(default=False)  # an auto-refill, not a click
    # The provider's id for it (a Stripe Checkout Session or PaymentIntent).
    provider_reference: so.Mapped[str | None] = so.mapped_column(sa.String(255), unique=True)
    checkout_url: so.Mapped[str | None] = so.mapped_column(sa.Text)
    failure_reason: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    transaction_id: so.Mapped[uuid.UUID | None] = so.mapped_column(
        sa.ForeignKey("credit_transactions.id", ondelete="SET NULL")
    )
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    completed_at: so.Mapped[datetime | None]

    __table_args__ = (
        sa.Index("ix_credit_purchases_user_created", "user_id", "created_at"),
        sa.CheckConstraint("status IN ('pending', 'completed', 'failed', 'expired')", name="status"),
        sa.CheckConstraint("credits > 0", name="credits_positive"),
        sa.CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
    )
