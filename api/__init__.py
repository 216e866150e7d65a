"""The REST service (FastAPI); built in a later issue. It imports optimizer, never the reverse."""
