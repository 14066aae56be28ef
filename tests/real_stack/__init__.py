"""A tiny Django app and Celery app for the real-stack fix tests (configured in-process, SQLite in memory)."""
