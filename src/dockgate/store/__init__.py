"""Persistence for access control: users, grants, tokens and audit records (SQLAlchemy 2, async).

SQLite by default, PostgreSQL by URL when several gateway replicas share one state. Repositories
return plain frozen records, never ORM objects, so nothing lazy-loads outside a session.
"""
