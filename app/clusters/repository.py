"""Queries on the cluster inventory; label selectors become ``jsonb`` conditions."""

import typing
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Numeric,
    Row,
    case,
    cast,
    delete,
    false,
    not_,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.types import NullType

from app.db.models import Cluster
from app.db.repository import Repository
from app.kubetypes import LabelSelector, Operator, Requirement

_INTEGER = r"^-?[0-9]+$"


@dataclass(frozen=True)
class ClusterFilter:
    """Which clusters to list; every given criterion must hold."""

    kind: str | None = None
    provider: str | None = None
    region: str | None = None
    country: str | None = None
    state: str | None = None
    selector: LabelSelector | None = None


def requirement_clause(requirement: Requirement) -> ColumnElement[bool]:
    """The SQL form of one requirement, with Kubernetes semantics for missing keys."""
    key, values = requirement.key, list(requirement.values)
    value: ColumnElement[str] = Cluster.labels[key].astext
    has_key = typing.cast(ColumnElement[bool], Cluster.labels.has_key(key))
    match requirement.operator:
        case Operator.IN if len(values) == 1:
            return Cluster.labels.contains({key: values[0]})
        case Operator.IN:
            return value.in_(values)
        case Operator.NOT_IN:
            return or_(not_(has_key), value.not_in(values))
        case Operator.EXISTS:
            return has_key
        case Operator.DOES_NOT_EXIST:
            return not_(has_key)
        case Operator.GT:
            comparison = cast(value, Numeric) > int(values[0])
        case Operator.LT:
            comparison = cast(value, Numeric) < int(values[0])
    return case((value.regexp_match(_INTEGER), comparison), else_=false())


# What a list shows, read as plain rows. The array columns are read without SQLAlchemy's
# per-element processing: the driver already gives Python lists of strings.
_LISTED_COLUMNS = (
    Cluster.id,
    Cluster.name,
    Cluster.kind,
    Cluster.provider,
    Cluster.region,
    type_coerce(Cluster.zones, NullType()).label("zones"),
    Cluster.country,
    type_coerce(Cluster.jurisdictions, NullType()).label("jurisdictions"),
    Cluster.labels,
    Cluster.taints,
    Cluster.capacity,
    Cluster.state,
    Cluster.cordoned,
    Cluster.draining,
    Cluster.api_server,
    Cluster.price_book_id,
    Cluster.version,
    Cluster.created_at,
    Cluster.updated_at,
)


class ClusterRepository(Repository):
    """Reads pages of clusters in one query and locks a cluster for change."""

    async def by_name(self, name: str, *, for_update: bool = False) -> Cluster | None:
        query = select(Cluster).where(Cluster.name == name)
        if for_update:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def name_taken(self, name: str) -> bool:
        return await self.session.scalar(select(Cluster.id).where(Cluster.name == name)) is not None

    async def list_page(
        self, criteria: ClusterFilter, *, after_name: str | None, limit: int
    ) -> Sequence[Row[Any]]:
        """Rows with the listed columns, by name; plain rows, not entities, for speed."""
        conditions: list[ColumnElement[bool]] = []
        for column, wanted in (
            (Cluster.kind, criteria.kind),
            (Cluster.provider, criteria.provider),
            (Cluster.region, criteria.region),
            (Cluster.country, criteria.country),
            (Cluster.state, criteria.state),
        ):
            if wanted is not None:
                conditions.append(column == wanted)
        if criteria.selector is not None:
            conditions.extend(requirement_clause(r) for r in criteria.selector.requirements)
        if after_name is not None:
            conditions.append(Cluster.name > after_name)
        query = select(*_LISTED_COLUMNS).where(*conditions).order_by(Cluster.name).limit(limit)
        return (await self.session.execute(query)).all()

    async def credentials_of(self, cluster_id: uuid.UUID) -> bytes | None:
        """The encrypted credentials; the only query that reads them."""
        return await self.session.scalar(
            select(Cluster.credentials_ciphertext).where(Cluster.id == cluster_id)
        )

    async def any_exists(self) -> bool:
        return await self.session.scalar(select(Cluster.id).limit(1)) is not None

    def add(self, cluster: Cluster) -> None:
        self.session.add(cluster)

    async def delete(self, cluster: Cluster) -> None:
        await self.session.execute(delete(Cluster).where(Cluster.id == cluster.id))
