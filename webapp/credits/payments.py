"""Buying credits: the packs, the payment providers, and crediting each payment exactly once.

A purchase starts ``pending``. The provider either completes it at once (the demo provider,
which moves no money and says so on the page) or sends the member to pay (Stripe Checkout) and
completes it when its webhook reports the payment. ``complete`` is the only way a purchase
becomes credits: a conditional update from ``pending`` to ``completed``, so a repeated webhook,
a double click or two workers racing credit it once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa
from flask import current_app

from webapp.credits import schemas, service
from webapp.credits.models import CreditAccount, CreditPurchase
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.notify import notify
from webapp.timeutil import utcnow


class PaymentsUnavailable(ServiceError):
    status = 503
    code = "payments_unavailable"


class PaymentFailed(ServiceError):
    status = 402
    code = "payment_failed"


@dataclass(frozen=True)
class Pack:
    id: str
    label: str
    credits: int
    price_cents: int

    @property
    def cents_per_credit(self) -> float:
        return self.price_cents / self.credits


def packs() -> list[Pack]:
    return [Pack(pack_id, **spec) for pack_id, spec in current_app.config["CREDIT_PACKS"].items()]


def pack(pack_id: str) -> Pack:
    return next(found for found in packs() if found.id == pack_id)


class Provider(Protocol):
    name: str
    label: str
    moves_money: bool

    def start(self, purchase: CreditPurchase, user: Any) -> None:
        """Begin a member's purchase: complete it, or give it a ``checkout_url`` to pay at."""

    def charge_saved_method(self, purchase: CreditPurchase, user: Any) -> None:
        """Pay an auto-refill with the member's saved method, off-session; raise ``PaymentFailed``."""


class DemoProvider:
    """Credits at once and no money: for ``make run`` and the tests, never in production."""

    name = "demo"
    label = "Demo payments: no card, no money, credits at once"
    moves_money = False

    def start(self, purchase: CreditPurchase, user: Any) -> None:
        complete(purchase.id)

    def charge_saved_method(self, purchase: CreditPurchase, user: Any) -> None:
        complete(purchase.id)


def provider() -> Provider | None:
    """The configured provider, or None where purchases are not offered (production without a
    Stripe key)."""
    name = current_app.config.get("PAYMENT_PROVIDER")
    if name == "demo":
        return DemoProvider()
    if name == "stripe":
        from webapp.credits.stripe_provider import StripeProvider

        return StripeProvider()
    return None


def _provider_or_refuse() -> Provider:
    found = provider()
    if found is None:
        raise PaymentsUnavailable("Buying credits is not available on this server yet (no payment provider is set up).")
    return found


def start_purchase(user: Any, data: dict[str, Any]) -> CreditPurchase:
    """A member buys a pack: the purchase row first (so a payment always has one to land on),
    then the provider."""
    chosen = pack(schemas.PurchaseRequest.clean(data, message="Choose a credit pack.")["pack"])
    chosen_provider = _provider_or_refuse()
    purchase = CreditPurchase(
        user_id=user.id,
        provider=chosen_provider.name,
        pack=chosen.id,
        credits=chosen.credits,
        amount_cents=chosen.price_cents,
        currency=current_app.config["CURRENCY"],
        status="pending",
        created_at=utcnow(),
    )
    # In a savepoint: a provider that refuses to start (Stripe unreachable) leaves no purchase
    # behind, even where the refusal is shown on a page whose answer commits.
    with db.session.begin_nested():
        db.session.add(purchase)
        db.session.flush()
        chosen_provider.start(purchase, user)
    return purchase


def complete(purchase_id: uuid.UUID, *, reference: str | None = None) -> CreditPurchase | None:
    """Credit a paid purchase, once: the purchase that moved to completed here, or None when it
    was completed before. A verified payment wins over an earlier failure or expiry (a member who
    retried with another card on the Checkout page, a charge that went through after a timeout):
    only ``completed`` is final."""
    moved = db.session.execute(
        sa.update(CreditPurchase)
        .where(CreditPurchase.id == purchase_id, CreditPurchase.status != "completed")
        .values(status="completed", completed_at=utcnow(), failure_reason=None)
        .execution_options(synchronize_session=False)
    )
    if not moved.rowcount:
        return None
    purchase = db.session.execute(
        sa.select(CreditPurchase).where(CreditPurchase.id == purchase_id).execution_options(populate_existing=True)
    ).scalar_one()
    label = current_app.config["CREDIT_PACKS"].get(purchase.pack, {}).get("label", purchase.pack)
    what = f"{label} pack" if purchase.pack else "Auto-refill"  # a pack since retired still credits
    entry = service.add(
        purchase.user_id,
        purchase.credits,
        "purchase",
        f"{what}: {purchase.credits:,} credits",
        {"provider": purchase.provider, "amount_cents": purchase.amount_cents, "currency": purchase.currency},
        source=service.Source("purchase", str(purchase.id)),
    )
    purchase.transaction_id = entry.id
    if reference and not purchase.provider_reference:
        purchase.provider_reference = reference
    db.session.flush()
    notify(
        purchase.user_id,
        "Credits added",
        f"{purchase.credits:,} credits were added to your balance ({what.lower()}).",
        type="success",
        category="billing",
        action_url="/credits",
        metadata={"purchase_id": str(purchase.id), "transaction_id": str(entry.id)},
    )
    return purchase


def fail(purchase_id: uuid.UUID, reason: str) -> bool:
    """Mark a pending purchase failed (a declined card); never a paid one."""
    return _leave_pending(purchase_id, status="failed", failure_reason=reason[:255])


def expire(purchase_id: uuid.UUID) -> bool:
    """A checkout the member never finished (Stripe expires it after a day)."""
    return _leave_pending(purchase_id, status="expired")


def _leave_pending(purchase_id: uuid.UUID, **values: Any) -> bool:
    """Move a purchase out of ``pending`` (to failed or expired), once."""
    moved = db.session.execute(
        sa.update(CreditPurchase)
        .where(CreditPurchase.id == purchase_id, CreditPurchase.status == "pending")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(moved.rowcount)


def purchase_of(user: Any, purchase_id: uuid.UUID | str) -> CreditPurchase:
    from webapp.errors import NotFound, parse_uuid

    found = db.session.scalar(
        sa.select(CreditPurchase).where(
            CreditPurchase.user_id == user.id, CreditPurchase.id == parse_uuid(purchase_id, "No such purchase.")
        )
    )
    if found is None:
        raise NotFound("No such purchase.")
    return found


def refilled_this_month(user_id: uuid.UUID) -> int:
    """Credits bought by auto-refill since the month began (pending ones included: in flight)."""
    since = utcnow().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(CreditPurchase.credits), 0)).where(
            CreditPurchase.user_id == user_id,
            CreditPurchase.automatic.is_(True),
            CreditPurchase.status.in_(("pending", "completed")),
            CreditPurchase.created_at >= since,
        )
    )


def auto_refill(user_id: uuid.UUID) -> CreditPurchase | None:
    """Buy the member's ``refill_amount`` with their saved payment method, if the balance is still
    under the threshold and this month's refills stay within the monthly limit, and tell the
    member how it went.

    The claim (``refill_requested_at``) is what keeps this job one at a time, so no row lock is
    held while the provider is called. It is released when there is nothing to do or the refill
    is credited; after a decline it stays, so the next spends retry only after
    ``service.REFILL_RETRY_AFTER`` instead of charging the card on every spend; past the monthly
    cap it is moved to the month's end, so the member hears about it once."""
    from webapp.auth.models import User

    account = db.session.scalar(sa.select(CreditAccount).where(CreditAccount.user_id == user_id))
    user = db.session.get(User, user_id)
    if account is None or user is None:
        return None
    if not account.auto_refill_enabled or account.current_balance >= account.refill_threshold:
        _release_claim(account)
        return None
    if refilled_this_month(user_id) + account.refill_amount > account.monthly_limit:
        account.refill_requested_at = service.month_resets_at()  # no new claim before it
        db.session.flush()
        notify(
            user_id,
            "Auto-refill paused for this month",
            f"Refilling {account.refill_amount:,} credits would pass your monthly limit of "
            f"{account.monthly_limit:,}. Raise the limit or buy a pack to keep going.",
            type="warning",
            category="billing",
            action_url="/credits",
        )
        return None
    chosen_provider = provider()
    if chosen_provider is None:
        return None
    purchase = CreditPurchase(
        user_id=user_id,
        provider=chosen_provider.name,
        pack=None,
        credits=account.refill_amount,
        amount_cents=round(account.refill_amount * current_app.config["REFILL_CENTS_PER_CREDIT"]),
        currency=current_app.config["CURRENCY"],
        status="pending",
        automatic=True,
        created_at=utcnow(),
    )
    db.session.add(purchase)
    db.session.flush()
    try:
        chosen_provider.charge_saved_method(purchase, user)
    except PaymentFailed as exc:
        fail(purchase.id, exc.message)
        notify(
            user_id,
            "Auto-refill failed",
            f"We could not charge your saved payment method for {account.refill_amount:,} credits: {exc.message}",
            type="error",
            category="billing",
            action_url="/credits",
        )
        return purchase
    if db.session.scalar(sa.select(CreditPurchase.status).where(CreditPurchase.id == purchase.id)) == "completed":
        _release_claim(account)
    return purchase


def _release_claim(account: CreditAccount) -> None:
    db.session.execute(
        sa.update(CreditAccount)
        .where(CreditAccount.id == account.id)
        .values(refill_requested_at=None)
        .execution_options(synchronize_session=False)
    )
