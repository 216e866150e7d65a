"""API keys of the caller's workspace: create (shown once), list and revoke (admin only)."""

from __future__ import annotations

from fastapi import APIRouter

from api.db.engine import transaction
from api.deps import Admin, Shared
from api.routes.bodies import key_out
from api.schemas import KeyCreate, KeyOut
from api.services import keys

router = APIRouter()


@router.post("/v1/keys", status_code=201, tags=["keys"])
def create_api_key(body: KeyCreate, who: Admin, shared: Shared) -> KeyOut:
    """A new key in your workspace; the key is in this response only."""
    with transaction(shared.factory) as session:
        row, key = keys.create_key(session, who.workspace, body.role, body.name)
        return key_out(row, key)


@router.get("/v1/keys", tags=["keys"])
def list_keys(who: Admin, shared: Shared) -> list[KeyOut]:
    """Your workspace's keys (prefixes only)."""
    with shared.factory() as session:
        return [key_out(r) for r in keys.list_keys(session, who.workspace)]


@router.post("/v1/keys/{key_id}/revoke", tags=["keys"])
def revoke_key(key_id: str, who: Admin, shared: Shared) -> KeyOut:
    """Revoke a key at once; requests with it get 401."""
    with transaction(shared.factory) as session:
        return key_out(keys.revoke_key(session, who, key_id))
