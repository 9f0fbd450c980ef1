"""Records' schema and the store (SQLAlchemy 2; SQLite by default, PostgreSQL by URL)."""
