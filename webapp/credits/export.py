"""The member's credits in the account export: the account, purchases and ledger as JSON, and
the ledger and the daily usage history as CSV for a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
import uuid
from typing import Any

import sqlalchemy as sa

from webapp.credits.models import CreditAccount, CreditPurchase, CreditTransaction
from webapp.export import exporter, row_dict
from webapp.extensions import db
from webapp.usage.models import UsageMetric

LEDGER_COLUMNS = (
    "created_at",
    "id",
    "type",
    "description",
    "amount",
    "balance_after",
    "status",
    "source_type",
    "source_id",
    "api_key_id",
    "metadata",
)
HISTORY_COLUMNS = ("date", "credits_used", "credits_added", "api_calls")


def _ledger(user_id: uuid.UUID):
    return db.session.scalars(
        sa.select(CreditTransaction)
        .where(CreditTransaction.user_id == user_id)
        .order_by(CreditTransaction.created_at, CreditTransaction.id)
    )


@exporter("credits.json")
def credits(user_id: uuid.UUID) -> dict[str, Any] | None:
    account = db.session.scalar(sa.select(CreditAccount).where(CreditAccount.user_id == user_id))
    if account is None:
        return None
    purchases = db.session.scalars(
        sa.select(CreditPurchase).where(CreditPurchase.user_id == user_id).order_by(CreditPurchase.created_at)
    )
    return {
        "account": row_dict(account),
        "purchases": [row_dict(row) for row in purchases],
        "transactions": [row_dict(row) for row in _ledger(user_id)],
    }


def _csv(header: tuple[str, ...], rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


@exporter("credit_ledger.csv")
def ledger_csv(user_id: uuid.UUID) -> bytes:
    return _csv(
        LEDGER_COLUMNS,
        (
            (
                row.created_at.isoformat(),
                row.id,
                row.type,
                row.description,
                row.amount,
                row.balance_after,
                row.status,
                row.source_type or "",
                row.source_id or "",
                row.api_key_id or "",
                json.dumps(row.details) if row.details else "",
            )
            for row in _ledger(user_id)
        ),
    )


@exporter("usage_history.csv")
def usage_history_csv(user_id: uuid.UUID) -> bytes:
    days = db.session.scalars(
        sa.select(UsageMetric).where(UsageMetric.user_id == user_id).order_by(UsageMetric.metric_date)
    )
    return _csv(
        HISTORY_COLUMNS,
        ((day.metric_date.isoformat(), day.credits_used, day.credits_added, day.api_calls) for day in days),
    )
