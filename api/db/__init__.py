"""The service's database: engines and sessions (``engine``), tables (``models``) and the
Alembic migrations that build them (``migrate``, ``migrations/``)."""
