"""Who is making a request."""

import uuid
from dataclasses import dataclass

from app.auth.roles import Role


@dataclass(frozen=True, slots=True)
class Principal:
    """The holder of a verified token, or Placer itself (``token_id`` None) for system work."""

    name: str
    role: Role
    token_id: uuid.UUID | None = None

    @classmethod
    def system(cls, purpose: str) -> "Principal":
        """An administrative actor for work Placer does on its own, e.g. seeding sample data."""
        return cls(name=f"system:{purpose}", role=Role.ADMIN)
