"""API keys: created once and shown once, stored as SHA-256 hashes, each bound to a workspace
and a role. viewer reads; planner also creates scenarios, plans and evaluations; admin also
manages keys.

Keys carry 256 random bits, so a fast hash is enough (no salt or slow KDF is needed to resist
guessing, as with GitHub or Stripe tokens); lookups compare hashes, never the keys.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db.models import ApiKey, new_id, utcnow

ROLES = ("viewer", "planner", "admin")
KEY_PREFIX = "bo_"
WORKSPACE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Principal:
    """Who is calling: their workspace, role and key id (``dev`` in single-user dev mode)."""

    workspace: str
    role: str
    key_id: str

    def can(self, role: str) -> bool:
        """True when this principal's role includes ``role``'s rights."""
        return ROLES.index(self.role) >= ROLES.index(role)


def hash_key(key: str) -> str:
    """SHA-256 hex digest of a key."""
    return hashlib.sha256(key.encode()).hexdigest()


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


def authenticate(session: Session, key: str) -> Principal | None:
    """The principal of an active key, or None for an unknown or revoked one."""
    row = session.scalar(
        select(ApiKey).where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None))
    )
    return None if row is None else Principal(row.workspace, row.role, row.id)
