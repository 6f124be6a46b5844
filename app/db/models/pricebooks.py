"""Price books and their immutable, dated versions."""

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Timestamps, UUIDPrimaryKey

MONEY = Numeric(20, 6)


class PriceBook(UUIDPrimaryKey, Timestamps, Base):
    """A named price list in one currency, for IaaS (per resource-hour) or on-prem (monthly)."""

    __tablename__ = "price_books"

    name: Mapped[str] = mapped_column(String(63), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str] = mapped_column(String(500), default="")
    latest_version: Mapped[int] = mapped_column(default=0)


class PriceBookVersion(UUIDPrimaryKey, Base):
    """Rates valid from ``effective_from`` until the next version's date; never changed."""

    __tablename__ = "price_book_versions"
    __table_args__ = (
        UniqueConstraint("price_book_id", "version"),
        UniqueConstraint("price_book_id", "effective_from"),
    )

    price_book_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("price_books.id", ondelete="CASCADE")
    )
    version: Mapped[int]
    effective_from: Mapped[datetime]
    cpu_per_vcpu_hour: Mapped[Decimal | None] = mapped_column(MONEY)
    memory_per_gib_hour: Mapped[Decimal | None] = mapped_column(MONEY)
    gpu_per_gpu_hour: Mapped[Decimal | None] = mapped_column(MONEY)
    monthly_fixed_cost: Mapped[Decimal | None] = mapped_column(MONEY)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
