"""Who is calling: a principal (workspace, role, key id) found from the API key's hash.

viewer reads; planner also creates scenarios, plans and evaluations; admin also manages keys.
Keys carry 256 random bits, so a fast hash is enough (no salt or slow KDF is needed to resist
guessing, as with GitHub or Stripe tokens); lookups compare hashes, never the keys.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db.models import ApiKey

Role = Literal["viewer", "planner", "admin"]
ROLES: tuple[str, ...] = get_args(Role)  # each includes the rights of those before it


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


def authenticate(session: Session, key: str) -> Principal | None:
    """The principal of an active key, or None for an unknown or revoked one."""
    row = session.scalar(
        select(ApiKey).where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None))
    )
    return None if row is None else Principal(row.workspace, row.role, row.id)
