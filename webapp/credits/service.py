"""Credits: the one place that changes a balance.

Every change is one conditional ``UPDATE`` of the member's account (``balance = balance - n``
only where the balance and this month's limit allow it) and one ledger row holding the balance
that update returned, in the same transaction. The update is atomic on every database: on
PostgreSQL a concurrent spend waits for the row's lock and then re-checks the condition against
the committed balance, so no update is lost and the balance never goes negative (the check
constraints say so too). Nothing here commits: the request or the job does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from webapp.credits import schemas
from webapp.credits.models import CreditAccount, CreditTransaction
from webapp.errors import NotFound, ServiceError, ValidationFailed, parse_uuid
from webapp.extensions import db
from webapp.timeutil import utcnow
from webapp.usage.models import UsageMetric
from webapp.usage.service import add_to_day
from webapp.usage.service import plan as usage_plan

REFILL_RETRY_AFTER = timedelta(minutes=15)  # a refill claim older than this was lost: try again


class InsufficientCredits(ServiceError):
    status = 402
    code = "insufficient_credits"


class MonthlyLimitReached(ServiceError):
    status = 402
    code = "monthly_limit_reached"


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month_start(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def month_resets_at(today: date | None = None) -> datetime:
    """When this month's spending starts again from zero (UTC midnight of the next month)."""
    resets = next_month_start(today or utcnow().date())
    return datetime(resets.year, resets.month, 1, tzinfo=UTC)


def account(user_id: uuid.UUID) -> CreditAccount:
    """The member's account, made on first use (sign-up makes it; older members get it here).
    Two first uses at once make one row: the loser of the unique index reads the winner's."""
    found = db.session.scalar(sa.select(CreditAccount).where(CreditAccount.user_id == user_id))
    if found is not None:
        return found
    created = CreditAccount(user_id=user_id)
    try:
        with db.session.begin_nested():
            db.session.add(created)
    except IntegrityError:
        return db.session.scalar(sa.select(CreditAccount).where(CreditAccount.user_id == user_id))
    return created


def set_up_member(user, _display_name: str, _profile_fields: dict[str, Any]) -> None:
    """Every new member starts with an empty account (seed 001: sign-up initialises the balance)."""
    db.session.add(CreditAccount(user_id=user.id))


def monthly_usage(found: CreditAccount, today: date | None = None) -> int:
    """Credits spent this month: the stored count is last month's until this month's first spend."""
    today = today or utcnow().date()
    return found.monthly_usage if found.usage_month == month_start(today) else 0


@dataclass(frozen=True)
class Source:
    """What a ledger row came from, so the ledger explains itself (and links to it)."""

    type: str  # "api_key", "session", "job", "purchase", "grant", "message", ...
    id: str | None = None
    api_key_id: uuid.UUID | None = None


def _account_for_change(user_id: uuid.UUID, amount: int) -> CreditAccount:
    """The account a change of ``amount`` applies to; callers inside Folio pass whole positive
    amounts (the contracts see to the API's), and a slip is refused rather than reversed."""
    if amount <= 0:
        raise ValidationFailed("The amount must be a positive number of credits.", details={"amount": ["Above 0."]})
    return account(user_id)


def spend(
    user_id: uuid.UUID,
    amount: int,
    description: str,
    details: dict[str, Any] | None = None,
    *,
    source: Source,
) -> CreditTransaction:
    """Take ``amount`` credits, or refuse with 402 and write nothing."""
    found = _account_for_change(user_id, amount)
    today = utcnow().date()
    month = month_start(today)
    used = sa.case((CreditAccount.usage_month == month, CreditAccount.monthly_usage), else_=0)
    spent = db.session.execute(
        sa.update(CreditAccount)
        .where(
            CreditAccount.user_id == user_id,
            CreditAccount.current_balance >= amount,
            used + amount <= CreditAccount.monthly_limit,
        )
        .values(
            current_balance=CreditAccount.current_balance - amount,
            monthly_usage=used + amount,
            usage_month=month,
            # This month's daily average, kept true by the same statement.
            # (A decimal factor, so that neither database divides integers.)
            average_daily_usage=sa.func.round(
                (used + amount) * sa.literal(Decimal(1), sa.Numeric(12, 2)) / today.day, 2
            ),
            updated_at=utcnow(),
        )
        .returning(
            CreditAccount.current_balance,
            CreditAccount.auto_refill_enabled,
            CreditAccount.refill_threshold,
        )
        .execution_options(synchronize_session=False)
    ).first()
    db.session.expire(found)  # changed behind the ORM's back: the next read reloads it
    if spent is None:
        raise _refusal(user_id, amount, today)
    entry = _write(user_id, "usage", -amount, spent.current_balance, description, details, source)
    add_to_day(user_id, today, credits_used=amount)
    if spent.auto_refill_enabled and spent.current_balance < spent.refill_threshold:
        _request_refill(user_id)
    return entry


def spend_requested(user_id: uuid.UUID, data: dict[str, Any], source: Source) -> CreditTransaction:
    """A spend asked for over the API (``SpendRequest``)."""
    cleaned = schemas.SpendRequest.clean(data)
    description = cleaned.get("description") or "Credits spent over the API"
    return spend(user_id, cleaned["amount"], description, cleaned.get("metadata"), source=source)


def grant(staff, data: dict[str, Any]) -> CreditTransaction:
    """Staff give a member credits (``GrantRequest``); the ledger names who gave them."""
    from webapp.auth.models import User

    cleaned = schemas.GrantRequest.clean(data)
    member_id = cleaned.get("user_id") or staff.id
    if db.session.get(User, member_id) is None:
        raise NotFound("No such member.", details={"user_id": ["No member has this id."]})
    description = cleaned.get("description") or "Credits from the Folio team"
    return add(
        member_id,
        cleaned["amount"],
        "bonus",
        description,
        cleaned.get("metadata"),
        source=Source("grant", str(staff.id)),
    )


def _refusal(user_id: uuid.UUID, amount: int, today: date) -> ServiceError:
    """Why a spend was refused, read after the update found no row to change."""
    found = db.session.execute(
        sa.select(CreditAccount).where(CreditAccount.user_id == user_id).execution_options(populate_existing=True)
    ).scalar_one()
    if found.current_balance < amount:
        return InsufficientCredits(
            f"Not enough credits: this needs {amount:,} and the balance is {found.current_balance:,}.",
            details={"balance": found.current_balance, "required": amount},
        )
    resets = month_resets_at(today)
    return MonthlyLimitReached(
        f"This would pass your monthly limit of {found.monthly_limit:,} credits "
        f"({monthly_usage(found, today):,} spent this month). It resets on {resets:%B} 1.",
        details={
            "monthly_limit": found.monthly_limit,
            "monthly_usage": monthly_usage(found, today),
            "resets_at": resets.isoformat(),
        },
    )


def add(
    user_id: uuid.UUID,
    amount: int,
    type: str,
    description: str,
    details: dict[str, Any] | None = None,
    *,
    source: Source,
) -> CreditTransaction:
    """Give ``amount`` credits (a purchase, a bonus or a refund) and write its ledger row."""
    found = _account_for_change(user_id, amount)
    balance = db.session.execute(
        sa.update(CreditAccount)
        .where(CreditAccount.user_id == user_id)
        .values(current_balance=CreditAccount.current_balance + amount, updated_at=utcnow())
        .returning(CreditAccount.current_balance)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    db.session.expire(found)
    entry = _write(user_id, type, amount, balance, description, details, source)
    add_to_day(user_id, credits_added=amount)
    return entry


def _write(user_id, type, amount, balance, description, details, source: Source) -> CreditTransaction:
    entry = CreditTransaction(
        user_id=user_id,
        type=type,
        description=description,
        amount=amount,
        balance_after=balance,
        details=details or None,
        source_type=source.type,
        source_id=source.id,
        api_key_id=source.api_key_id,
        created_at=utcnow(),  # after the update returned: later than the row before it
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def _request_refill(user_id: uuid.UUID) -> None:
    """Queue one auto-refill: the claim is a conditional update, so a burst of spends under the
    threshold queues a single job (a claim older than ``REFILL_RETRY_AFTER`` was lost)."""
    from webapp.credits import tasks
    from webapp.jobs import enqueue

    now = utcnow()
    claimed = db.session.execute(
        sa.update(CreditAccount)
        .where(
            CreditAccount.user_id == user_id,
            sa.or_(
                CreditAccount.refill_requested_at.is_(None),
                CreditAccount.refill_requested_at < now - REFILL_RETRY_AFTER,
            ),
        )
        .values(refill_requested_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed:
        enqueue(tasks.auto_refill, str(user_id))


def change_auto_refill(user, data: dict[str, Any]) -> CreditAccount:
    """Save the auto-refill settings and the monthly limit (within the member's plan)."""
    found = account(user.id)
    plan_limit = usage_plan(user.plan)["max_monthly_limit"]
    changes = schemas.AutoRefillChanges.clean(data, context={"plan_limit": plan_limit, "account": found})
    for name, value in changes.items():
        setattr(found, name, value)
    db.session.flush()
    return found


def transactions(
    user_id: uuid.UUID,
    *,
    limit: int,
    type: str | None = None,
    offset: int = 0,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> list[CreditTransaction]:
    """Newest first. ``after`` (a row's ``(created_at, id)``) pages by keyset, which costs the
    same at any depth; ``offset`` is kept for seed 000's clients."""
    query = sa.select(CreditTransaction).where(CreditTransaction.user_id == user_id)
    if type:
        query = query.where(CreditTransaction.type == type)
    if after is not None:
        query = query.where(sa.tuple_(CreditTransaction.created_at, CreditTransaction.id) < sa.tuple_(*after))
    query = query.order_by(CreditTransaction.created_at.desc(), CreditTransaction.id.desc())
    return list(db.session.scalars(query.limit(limit).offset(0 if after else offset)))


def transaction(user_id: uuid.UUID, transaction_id: uuid.UUID | str) -> CreditTransaction:
    found = db.session.scalar(
        sa.select(CreditTransaction).where(
            CreditTransaction.user_id == user_id,
            CreditTransaction.id == parse_uuid(transaction_id, "No such transaction."),
        )
    )
    if found is None:
        raise NotFound("No such transaction.")
    return found


def key_names(rows: list[CreditTransaction]) -> dict[uuid.UUID, str]:
    """The names of the API keys behind ``rows`` (one query for a page of the ledger)."""
    from webapp.apikeys.models import ApiKey

    ids = {row.api_key_id for row in rows if row.api_key_id}
    if not ids:
        return {}
    rows = db.session.execute(sa.select(ApiKey.id, ApiKey.name).where(ApiKey.id.in_(ids)))
    return {key_id: name for key_id, name in rows}


@dataclass(frozen=True)
class Day:
    day: date
    used: int
    added: int


def daily_history(user_id: uuid.UUID, days: int) -> list[Day]:
    """Credits used and added per UTC day, oldest first, from the daily rollup (one indexed
    query whatever the size of the ledger); days without activity are zeros."""
    today = utcnow().date()
    first = today - timedelta(days=days - 1)
    rows = db.session.execute(
        sa.select(UsageMetric.metric_date, UsageMetric.credits_used, UsageMetric.credits_added).where(
            UsageMetric.user_id == user_id, UsageMetric.metric_date >= first
        )
    )
    found = {day: (used, added) for day, used, added in rows}
    return [Day(d, *found.get(d, (0, 0))) for d in (first + timedelta(days=i) for i in range(days))]


@dataclass(frozen=True)
class Forecast:
    """How long the balance lasts at the last seven days' rate, and when auto-refill triggers."""

    daily_rate: Decimal
    days_left: int | None  # None: nothing spent lately, so no end in sight
    runs_out_on: date | None
    refill_on: date | None


def forecast(found: CreditAccount, history: list[Day]) -> Forecast:
    week = history[-7:]
    rate = Decimal(sum(day.used for day in week)) / 7
    if rate <= 0:
        return Forecast(Decimal(0), None, None, None)
    today = utcnow().date()
    days_left = int(found.current_balance / rate)
    refill_on = None
    if found.auto_refill_enabled:
        above = max(0, found.current_balance - found.refill_threshold)
        refill_on = today + timedelta(days=int(above / rate))
    return Forecast(rate.quantize(Decimal("0.01")), days_left, today + timedelta(days=days_left), refill_on)


def check_ledger(user_id: uuid.UUID) -> list[str]:
    """What is wrong with a member's ledger (nothing, normally): the amounts add up to the
    balance and every row's balance follows from the one before (the concurrency tests check it)."""
    problems = []
    running = 0
    rows = db.session.execute(
        sa.select(CreditTransaction.id, CreditTransaction.amount, CreditTransaction.balance_after)
        .where(CreditTransaction.user_id == user_id, CreditTransaction.status == "completed")
        .order_by(CreditTransaction.created_at, CreditTransaction.id)
    )
    for row in rows:
        running += row.amount
        if running != row.balance_after:
            problems.append(f"{row.id}: balance_after {row.balance_after}, expected {running}")
    balance = db.session.scalar(sa.select(CreditAccount.current_balance).where(CreditAccount.user_id == user_id)) or 0
    if running != balance:
        problems.append(f"balance {balance}, ledger adds up to {running}")
    return problems
