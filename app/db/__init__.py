"""Persistence: declarative base, models, engine and session handling, migrations."""
