"""Database URLs: users give a plain ``postgresql://`` URL; each driver gets its own scheme."""

from sqlalchemy.engine import URL, make_url

_POSTGRES_SCHEMES = ("postgresql", "postgres")


def with_driver(url: str, driver: str) -> URL:
    """Return ``url`` for the SQLAlchemy ``driver`` (``asyncpg`` or ``psycopg``).

    Unix-socket URLs such as ``postgresql://postgres:@/placer?host=/run/pg`` are kept intact:
    both drivers read the socket directory from the ``host`` query parameter.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in _POSTGRES_SCHEMES:
        raise ValueError(f"not a PostgreSQL URL: {parsed.render_as_string(hide_password=True)}")
    return parsed.set(drivername=f"postgresql+{driver}")
