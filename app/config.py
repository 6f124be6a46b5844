"""Service configuration, read once from ``PLACER_*`` environment variables.

Every setting is documented in the README's configuration table; the names here are the
variable names without the ``PLACER_`` prefix.
"""

from pathlib import Path

import platformdirs
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MAX_BODY_BYTES = 1024 * 1024


def default_data_dir() -> Path:
    """Where the embedded database and the generated secret key live by default."""
    return Path(platformdirs.user_data_dir("placer", appauthor=False))


class Settings(BaseSettings):
    """Runtime settings of one Placer process."""

    model_config = SettingsConfigDict(env_prefix="PLACER_", extra="ignore", frozen=True)

    database_url: SecretStr | None = Field(
        default=None,
        description="PostgreSQL URL; when unset an embedded server is started in the data dir.",
    )
    data_dir: Path = Field(default_factory=default_data_dir)
    secret_key: SecretStr | None = Field(
        default=None,
        description="Key that encrypts cluster credentials; generated into the data dir if unset.",
    )
    bootstrap_token: SecretStr | None = None
    allowed_cluster_networks: str = Field(
        default="",
        description="Comma-separated CIDRs of private networks cluster API servers may live in.",
    )
    jurisdiction_groups: dict[str, list[str]] = Field(
        default_factory=dict,
        description='Extra jurisdiction groups as JSON, e.g. {"APAC-DC": ["JP", "SG"]}.',
    )
    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, gt=0)
    migrations_dir: Path | None = None
    policies_dir: Path | None = Field(
        default=None,
        description="Directory of policy YAML files loaded at start; default: the checkout's.",
    )
    log_level: str = "INFO"
    access_log: bool = True
    db_pool_size: int = Field(default=10, gt=0)
    reconcile: bool = Field(
        default=True,
        description="Run the reconciler and the inventory sync in this process.",
    )
    reconcile_interval_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How often deploying workloads are checked and due work is looked for.",
    )
    cluster_list_max_age_seconds: float = Field(
        default=1.0,
        gt=0,
        le=1.0,
        description="Longest a process serves a cached cluster list page without re-reading it.",
    )
    sync_interval_seconds: float = Field(
        default=30.0, gt=0, description="How often clusters with credentials are synced."
    )
    reconciler_id: str | None = Field(
        default=None,
        description="This replica's name in reconcile claims; default: host name and pid.",
    )

    @property
    def resolved_migrations_dir(self) -> Path:
        """The Alembic script directory: the configured one, else the checkout's ``migrations/``."""
        if self.migrations_dir is not None:
            return self.migrations_dir
        return Path(__file__).resolve().parent.parent / "migrations"

    @property
    def resolved_policies_dir(self) -> Path:
        """The policy documents: the configured directory, else the checkout's ``policies/``."""
        if self.policies_dir is not None:
            return self.policies_dir
        return Path(__file__).resolve().parent.parent / "policies"
