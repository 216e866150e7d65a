"""API keys: created once and shown once (only the hash is stored), each bound to a
workspace and a role; listed and revoked by the workspace's admins."""

from __future__ import annotations

import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import ROLES, Principal, hash_key
from api.db.models import ApiKey, new_id, utcnow
from api.problems import HttpProblem

KEY_PREFIX = "bo_"
WORKSPACE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def create_key(session: Session, workspace: str, role: str, name: str = "") -> tuple[ApiKey, str]:
    """Store a new key's hash; return the row and the key itself (shown once, never stored)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if not WORKSPACE_PATTERN.match(workspace):
        raise ValueError(
            "workspace must be 1-64 lowercase letters, digits, '-' or '_', "
            f"starting with a letter or digit; got {workspace!r}"
        )
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        id=new_id("key"),
        workspace=workspace,
        role=role,
        name=name[:100],
        prefix=key[:10],
        key_hash=hash_key(key),
        created_at=utcnow(),
    )
    session.add(row)
    return row, key


def list_keys(session: Session, workspace: str) -> list[ApiKey]:
    """A workspace's keys, oldest first (revoked ones too)."""
    query = select(ApiKey).where(ApiKey.workspace == workspace).order_by(ApiKey.created_at)
    return list(session.scalars(query))


def revoke_key(session: Session, who: Principal, key_id: str) -> ApiKey:
    """Revoke a key of the caller's workspace at once (404 for another workspace's)."""
    row = session.scalar(
        select(ApiKey).where(ApiKey.id == key_id, ApiKey.workspace == who.workspace)
    )
    if row is None:
        raise HttpProblem(404, "not-found", f"no key with id {key_id!r} in this workspace")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return row
