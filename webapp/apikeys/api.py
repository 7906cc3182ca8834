"""API keys over JSON (seed 000 §4). Keys may manage keys only with ``keys:manage``, and never
hand out more than they hold: a scope the calling key lacks is a 403 ``insufficient_scope``
naming it, a rate limit above its own a 403 ``forbidden`` (see ``service.Ceiling``)."""

from __future__ import annotations

from flask import Blueprint, request

from webapp.api.endpoint import endpoint, json_body, no_content, no_store, ok
from webapp.apikeys import KEYS_MANAGE, KEYS_READ, schemas
from webapp.apikeys import service as apikeys
from webapp.pagination import ListMeta, page_size, window

bp = Blueprint("apikeys_api", __name__, url_prefix="/api/v1")


def _ceiling(principal) -> apikeys.Ceiling | None:
    """A key's own scopes and rate bound what it grants; sessions and tokens hold all their member's."""
    if principal.via != "key":
        return None
    return apikeys.Ceiling(
        scopes=principal.scopes, rate_limit=principal.api_key_rate_limit, expires_at=principal.api_key_expires_at
    )


@endpoint(
    bp,
    "GET",
    "/api-keys",
    scope=KEYS_READ,
    tag="API keys",
    summary="List your keys, newest first (never the secrets)",
    response=list[schemas.KeyReply],
    query=schemas.KeyListQuery,
    meta=ListMeta,
)
def list_keys(principal):
    """One window of keys; ``meta`` says how many there are in all."""
    limit, offset = window(schemas.KeyListQuery.read(request.args), default_limit=page_size(principal.user))
    found, total = apikeys.list_keys(principal.user, limit=limit, offset=offset)
    return ok([schemas.key_json(k) for k in found], **ListMeta.of({"total": total, "limit": limit, "offset": offset}))


@endpoint(
    bp,
    "POST",
    "/api-keys",
    scope=KEYS_MANAGE,
    tag="API keys",
    summary="Create a key; the response holds the secret, shown this once",
    body=schemas.KeyCreation,
    response=schemas.NewKeyReply,
    status=201,
)
def create_key(principal):
    key, secret = apikeys.create_key(principal.user, json_body(), _ceiling(principal))
    return no_store(ok(schemas.key_json(key, secret), 201))


@endpoint(
    bp,
    "PATCH",
    "/api-keys/<key_id>",
    scope=KEYS_MANAGE,
    tag="API keys",
    summary="Rename, change permissions, rate limit or expiry, disable or enable",
    body=schemas.KeyChanges,
    response=schemas.KeyReply,
)
def update_key(principal, key_id: str):
    return ok(schemas.key_json(apikeys.update_key(principal.user, key_id, json_body(), _ceiling(principal))))


@endpoint(
    bp,
    "POST",
    "/api-keys/<key_id>/regenerate",
    scope=KEYS_MANAGE,
    tag="API keys",
    summary="New secret for the key; the old one stops working at once",
    response=schemas.NewKeyReply,
)
def regenerate_key(principal, key_id: str):
    key, secret = apikeys.regenerate_key(principal.user, key_id, _ceiling(principal))
    return no_store(ok(schemas.key_json(key, secret)))


@endpoint(bp, "DELETE", "/api-keys/<key_id>", scope=KEYS_MANAGE, tag="API keys", summary="Delete a key", status=204)
def delete_key(principal, key_id: str):
    apikeys.delete_key(principal.user, key_id)
    return no_content()
