"""Stripe: Checkout for packs, an off-session PaymentIntent for auto-refills, and the webhook
that turns paid sessions into credits.

A member's first Checkout saves their card (``setup_future_usage=off_session``); the webhook
keeps the customer and the card on their account, and auto-refill charges that card without
the member present. Every call carries an idempotency key derived from the purchase, so a retry
after a timeout never charges twice. ``STRIPE_API_BASE`` points the library at another server
that speaks Stripe's API (the tests run one).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import sqlalchemy as sa
import stripe
from flask import current_app

from webapp.credits import payments, service
from webapp.credits.models import CreditAccount, CreditPurchase
from webapp.errors import NotFound, ServiceError
from webapp.extensions import db

log = logging.getLogger(__name__)


class InvalidSignature(ServiceError):
    status = 400
    code = "invalid_signature"


def client() -> stripe.StripeClient:
    config = current_app.config
    base = {"api": config["STRIPE_API_BASE"]} if config.get("STRIPE_API_BASE") else None
    return stripe.StripeClient(config["STRIPE_SECRET_KEY"], base_addresses=base, max_network_retries=2)


class StripeProvider:
    name = "stripe"
    label = "Card payments by Stripe"
    moves_money = True

    def start(self, purchase: CreditPurchase, user: Any) -> None:
        """A Checkout Session for the pack; the member pays on Stripe's page."""
        stripe_client = client()
        base = current_app.config["BASE_URL"].rstrip("/")
        chosen = payments.pack(purchase.pack)
        try:
            session = stripe_client.v1.checkout.sessions.create(
                params={
                    "mode": "payment",
                    "customer": _customer(stripe_client, user),
                    "client_reference_id": str(purchase.id),
                    "line_items": [
                        {
                            "quantity": 1,
                            "price_data": {
                                "currency": purchase.currency,
                                "unit_amount": purchase.amount_cents,
                                "product_data": {"name": f"Folio {chosen.label} pack: {chosen.credits:,} credits"},
                            },
                        }
                    ],
                    "payment_intent_data": {
                        "setup_future_usage": "off_session",  # the card auto-refill will charge
                        "metadata": {"purchase_id": str(purchase.id), "user_id": str(user.id)},
                    },
                    "metadata": {"purchase_id": str(purchase.id), "user_id": str(user.id)},
                    "success_url": f"{base}/credits?checkout=paid",
                    "cancel_url": f"{base}/credits?checkout=cancelled",
                },
                options={"idempotency_key": f"checkout-{purchase.id}"},
            )
        except stripe.StripeError as exc:
            log.warning("Stripe refused a Checkout Session: %s", exc)
            raise payments.PaymentsUnavailable("Stripe could not start the payment; please try again.") from None
        purchase.provider_reference = session.id
        purchase.checkout_url = session.url
        db.session.flush()

    def charge_saved_method(self, purchase: CreditPurchase, user: Any) -> None:
        """Charge the saved card off-session; a decline is ``PaymentFailed``."""
        account = service.account(user.id)
        if not (account.payment_customer_id and account.payment_method_id):
            raise payments.PaymentFailed("No saved card yet: buy a pack once and the card is kept for refills.")
        try:
            intent = client().v1.payment_intents.create(
                params={
                    "amount": purchase.amount_cents,
                    "currency": purchase.currency,
                    "customer": account.payment_customer_id,
                    "payment_method": account.payment_method_id,
                    "off_session": True,
                    "confirm": True,
                    "description": f"Folio auto-refill: {purchase.credits:,} credits",
                    "metadata": {"purchase_id": str(purchase.id), "user_id": str(user.id)},
                },
                options={"idempotency_key": f"refill-{purchase.id}"},
            )
        except stripe.CardError as exc:
            raise payments.PaymentFailed(exc.user_message or "The card was declined.") from None
        except stripe.APIConnectionError as exc:
            # The charge may have gone through: the purchase stays pending for the webhook.
            log.warning("Stripe did not answer an auto-refill (left pending): %s", exc)
            return
        except stripe.StripeError as exc:
            log.warning("Stripe refused an auto-refill: %s", exc)
            raise payments.PaymentFailed("Stripe refused the payment.") from None
        purchase.provider_reference = intent.id
        db.session.flush()
        if intent.status == "succeeded":
            payments.complete(purchase.id)
        elif intent.status != "processing":  # processing: the webhook completes it
            raise payments.PaymentFailed(f"The payment needs your attention ({intent.status.replace('_', ' ')}).")


def _customer(stripe_client: stripe.StripeClient, user: Any) -> str:
    """The member's Stripe customer, created once (its id kept on the credit account)."""
    account = service.account(user.id)
    if not account.payment_customer_id:
        customer = stripe_client.v1.customers.create(
            params={"email": user.email, "metadata": {"user_id": str(user.id)}},
            options={"idempotency_key": f"customer-{user.id}"},
        )
        account.payment_customer_id = customer.id
        db.session.flush()
    return account.payment_customer_id


def receive(payload: bytes, signature: str | None) -> str:
    """Verify and handle one webhook delivery; returns the event's type. A repeated delivery
    changes nothing: each purchase moves out of ``pending`` once."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret:  # the endpoint exists only where Stripe is set up
        raise NotFound("Stripe webhooks are not set up on this server.")
    try:
        event = stripe.Webhook.construct_event(payload, signature or "", secret)
    except (ValueError, stripe.SignatureVerificationError):
        raise InvalidSignature("The Stripe-Signature header does not match this payload.") from None
    handler = _HANDLERS.get(event.type)
    if handler is not None:
        handler(event.data.object.to_dict())  # plain dicts, nested ones too
    return event.type


def _purchase(reference: str | None, purchase_id: str | None) -> CreditPurchase | None:
    conditions = []
    if reference:
        conditions.append(CreditPurchase.provider_reference == reference)
    try:
        conditions.append(CreditPurchase.id == uuid.UUID(str(purchase_id)))
    except ValueError:
        pass
    if not conditions:
        return None
    return db.session.scalar(sa.select(CreditPurchase).where(CreditPurchase.provider == "stripe", sa.or_(*conditions)))


def _session_paid(session: dict) -> None:
    if session.get("payment_status") != "paid":
        return  # an asynchronous method: checkout.session.async_payment_succeeded follows
    purchase = _purchase(session.get("id"), (session.get("metadata") or {}).get("purchase_id"))
    if purchase is None:
        log.warning("Stripe reported a paid session for no purchase of ours: %s", session.get("id"))
        return
    _remember_customer(purchase.user_id, session.get("customer"), None)
    payments.complete(purchase.id)


def _session_expired(session: dict) -> None:
    purchase = _purchase(session.get("id"), (session.get("metadata") or {}).get("purchase_id"))
    if purchase is not None:
        payments.expire(purchase.id)


def _intent_succeeded(intent: dict) -> None:
    purchase = _purchase(intent.get("id"), (intent.get("metadata") or {}).get("purchase_id"))
    if purchase is None:
        return
    if intent.get("setup_future_usage") == "off_session" or purchase.automatic:
        _remember_customer(purchase.user_id, intent.get("customer"), intent.get("payment_method"))
    payments.complete(purchase.id)


def _intent_failed(intent: dict) -> None:
    """An off-session refill was declined. A decline on the Checkout page is not final (the
    member may try another card in the same session), so a pack purchase stays pending."""
    purchase = _purchase(intent.get("id"), (intent.get("metadata") or {}).get("purchase_id"))
    if purchase is not None and purchase.automatic:
        error = intent.get("last_payment_error") or {}
        payments.fail(purchase.id, error.get("message") or "The payment failed.")


def _remember_customer(user_id: uuid.UUID, customer: str | None, payment_method: str | None) -> None:
    values = {}
    if customer:
        values["payment_customer_id"] = customer
    if payment_method:
        values["payment_method_id"] = payment_method
    if values:
        db.session.execute(
            sa.update(CreditAccount)
            .where(CreditAccount.user_id == user_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


_HANDLERS = {
    "checkout.session.completed": _session_paid,
    "checkout.session.async_payment_succeeded": _session_paid,
    "checkout.session.expired": _session_expired,
    "payment_intent.succeeded": _intent_succeeded,
    "payment_intent.payment_failed": _intent_failed,
}
