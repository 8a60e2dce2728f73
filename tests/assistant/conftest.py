"""The assistant's tests use the session fixtures of tests/conftest.py (the bundled corpus ingested once)."""
