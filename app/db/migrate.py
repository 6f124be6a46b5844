"""Apply the Alembic migrations under ``migrations/`` to a database."""

from pathlib import Path

from alembic import command
from alembic.config import Config

from app.db.urls import with_driver


def alembic_config(database_url: str, migrations_dir: Path) -> Config:
    """An Alembic configuration built in code, so ``placer db upgrade`` works from any directory."""
    if not (migrations_dir / "env.py").is_file():
        raise FileNotFoundError(
            f"no Alembic migrations in {migrations_dir}; set PLACER_MIGRATIONS_DIR"
        )
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option(
        "file_template",
        "%%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d-%%(rev)s_%%(slug)s",
    )
    config.attributes["database_url"] = with_driver(database_url, "psycopg")
    return config


def upgrade_to_head(database_url: str, migrations_dir: Path) -> None:
    """Bring the schema to the newest migration; concurrent callers wait for each other."""
    command.upgrade(alembic_config(database_url, migrations_dir), "head")


def new_revision(database_url: str, migrations_dir: Path, message: str) -> None:
    """Write a migration for the difference between the models and the database at head."""
    command.revision(
        alembic_config(database_url, migrations_dir), message=message, autogenerate=True
    )
