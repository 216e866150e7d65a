"""Lists come a page at a time, newest first, with the total that match."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session


def one_page(
    session: Session, query: Select[Any], newest: Any, ident: Any, page: int, per_page: int
) -> tuple[list[Any], int]:
    """One page of ``query``, newest first (ties by id), and how many rows match in all."""
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(newest.desc(), ident).offset((page - 1) * per_page).limit(per_page)
    )
    return list(rows), total
