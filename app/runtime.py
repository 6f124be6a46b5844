"""Turning settings into the things a running service holds: database URL, keys, policy."""

from types import MappingProxyType

from app.clusters.credentials import parse_allowed_networks
from app.clusters.geography import validate_group
from app.clusters.service import ClusterPolicy
from app.config import Settings
from app.db.embedded import start_embedded_postgres
from app.security.secretbox import load_or_create_key


def resolve_database_url(settings: Settings) -> str:
    """The configured URL, or the embedded server's (started on demand) when none is set."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    return start_embedded_postgres(settings.data_dir)


def cluster_policy(settings: Settings) -> ClusterPolicy:
    """Key box, allowed private networks and extra jurisdiction groups; fails fast on typos."""
    secret = settings.secret_key.get_secret_value() if settings.secret_key is not None else None
    groups = dict(
        validate_group(name, members) for name, members in settings.jurisdiction_groups.items()
    )
    return ClusterPolicy(
        secret_box=load_or_create_key(settings.data_dir, secret),
        allowed_networks=parse_allowed_networks(settings.allowed_cluster_networks),
        jurisdiction_groups=MappingProxyType(groups),
    )
