"""The cluster inventory."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Timestamps, UUIDPrimaryKey


class Cluster(UUIDPrimaryKey, Timestamps, Base):
    """A Kubernetes cluster Placer can deploy to; ``version`` increments on every change."""

    __tablename__ = "clusters"
    __table_args__ = (
        Index("ix_clusters_labels", "labels", postgresql_using="gin"),
        Index("ix_clusters_country", "country"),
        Index("ix_clusters_state", "state"),
    )

    name: Mapped[str] = mapped_column(String(63), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    provider: Mapped[str] = mapped_column(String(63))
    region: Mapped[str] = mapped_column(String(63))
    zones: Mapped[list[str]] = mapped_column(ARRAY(Text))
    country: Mapped[str] = mapped_column(String(2))
    jurisdictions: Mapped[list[str]] = mapped_column(ARRAY(Text))
    labels: Mapped[dict[str, Any]]
    taints: Mapped[list[dict[str, str]]] = mapped_column(JSONB)
    capacity: Mapped[dict[str, Any]]
    cordoned: Mapped[bool] = mapped_column(default=False)
    draining: Mapped[bool] = mapped_column(default=False)
    unreachable: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(20))
    api_server: Mapped[str | None] = mapped_column(String(2048))
    credentials_ciphertext: Mapped[bytes | None] = mapped_column(
        LargeBinary, deferred=True, deferred_raiseload=True
    )
    price_book_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("price_books.id", ondelete="RESTRICT"), index=True
    )
    version: Mapped[int] = mapped_column(default=1)
    # Written by the inventory sync for clusters with credentials: requests of running pods
    # Placer does not manage, when the cluster was last read, and what the read found amiss.
    allocated_external: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    synced_at: Mapped[datetime | None]
    sync_message: Mapped[str | None] = mapped_column(Text)
