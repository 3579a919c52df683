"""Persistence: SQLAlchemy models, sessions and the projection queries."""
