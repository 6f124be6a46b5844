"""The ``placer`` command: serve the API, migrate the database, issue tokens, write the schema."""

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
import uvicorn
from cryptography.fernet import Fernet
from pydantic import ValidationError

from app.auth.principal import Principal
from app.auth.roles import Role
from app.auth.service import TokenService
from app.clusters.service import ClusterPolicy
from app.config import Settings
from app.db.migrate import new_revision, upgrade_to_head
from app.db.session import Database
from app.main import create_app
from app.observability.logging import configure_logging
from app.placements.scheduler import PolicyLoadError, load_scheduler
from app.runtime import cluster_policy, resolve_database_url
from app.security.secretbox import SecretBox, SecretKeyError
from app.seed.sample import seed_sample_inventory

app = typer.Typer(help="Placer: hybrid-cloud placement for Kubernetes.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")

DEFAULT_OPENAPI_PATH = Path("openapi/openapi.json")


def _migrated_database_url(settings: Settings) -> str:
    url = resolve_database_url(settings)
    upgrade_to_head(url, settings.resolved_migrations_dir)
    return url


async def _prepare(url: str, settings: Settings, *, seed: bool) -> None:
    database = Database.connect(url, pool_size=1)
    try:
        async with database.transaction() as session:
            configured = settings.bootstrap_token
            generated = await TokenService(session).ensure_bootstrap(
                configured.get_secret_value() if configured is not None else None
            )
        if generated is not None:
            typer.echo(
                "First start: an admin token was created. It is shown once; keep it safe.\n"
                f"  {generated}",
                err=True,
            )
        if seed and await seed_sample_inventory(database, cluster_policy(settings)):
            typer.echo("Sample inventory loaded (6 clusters, 5 price books).", err=True)
    finally:
        await database.dispose()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    seed_sample_data: Annotated[
        bool, typer.Option(help="Load the sample inventory if the database is empty.")
    ] = False,
) -> None:
    """Check the configuration, migrate the database, make sure an admin token exists, then
    serve the API."""
    settings = _checked_settings()
    configure_logging(settings.log_level)
    url = _migrated_database_url(settings)
    asyncio.run(_prepare(url, settings, seed=seed_sample_data))
    # Workers are separate processes: they find the (possibly embedded) server through this.
    os.environ["PLACER_DATABASE_URL"] = url
    # uvicorn re-raises the stop signal once it has shut down; exiting through Python instead of
    # dying of the signal runs the exit hooks that stop the embedded database.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    uvicorn.run(
        "app.main:serve_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        proxy_headers=False,
    )


def _refuse_to_start(problem: str) -> NoReturn:
    typer.echo(
        f"placer serve: not starting: {problem}. Fix it and start again.",
        err=True,
    )
    raise typer.Exit(code=2)


def _checked_settings() -> Settings:
    """The settings, with everything the workers would load from them checked here first.

    uvicorn's workers build the application themselves, where a bad policy file or key would
    end in a traceback per worker; a clear refusal before anything starts is kinder.
    """
    try:
        settings = Settings()
    except ValidationError as error:
        _refuse_to_start(
            "; ".join(
                f"PLACER_{'_'.join(str(part) for part in problem['loc']).upper()}: {problem['msg']}"
                for problem in error.errors()
            )
        )
    try:
        load_scheduler(settings.resolved_policies_dir)
        cluster_policy(settings)
    except (PolicyLoadError, SecretKeyError, ValueError) as error:
        _refuse_to_start(str(error))
    return settings


def _exit_cleanly(signum: int, _frame: object) -> None:
    sys.exit(128 + signum)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    _migrated_database_url(Settings())
    typer.echo("database schema is up to date")


@db_app.command("revision")
def db_revision(
    message: Annotated[str, typer.Option("--message", "-m", help="What the migration does.")],
) -> None:
    """Write a new migration from the difference between the models and the database."""
    settings = Settings()
    new_revision(_migrated_database_url(settings), settings.resolved_migrations_dir, message)


async def _issue_token(url: str, name: str, role: Role) -> str:
    database = Database.connect(url, pool_size=1)
    try:
        async with database.transaction() as session:
            return await TokenService(session).issue(
                name=name, role=role, actor=Principal.system("cli")
            )
    finally:
        await database.dispose()


@token_app.command("create")
def token_create(
    role: Annotated[Role, typer.Option(help="The token's role.")],
    name: Annotated[str, typer.Option(help="Who or what holds the token.")] = "cli",
) -> None:
    """Issue a token and print it (the only time it is shown)."""
    url = _migrated_database_url(Settings())
    typer.echo(asyncio.run(_issue_token(url, name, role)))


def openapi_document() -> dict[str, object]:
    """The schema of the application, built without touching any database or key."""
    offline_policy = ClusterPolicy(secret_box=SecretBox([Fernet.generate_key()]))
    application = create_app(
        Settings(database_url=None),
        database_url="postgresql://openapi@localhost/unused",
        policy=offline_policy,
    )
    return application.openapi()


def render_openapi() -> str:
    """The committed form of the schema: sorted keys, two-space indent, final newline."""
    return json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"


@app.command()
def openapi(
    output: Annotated[Path, typer.Option(help="Where to write the schema.")] = DEFAULT_OPENAPI_PATH,
) -> None:
    """Write the OpenAPI document."""
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_openapi())
    typer.echo(f"wrote {output}")


def main() -> None:
    """Entry point of the ``placer`` console script."""
    app()
