"""Settings, read from the environment (and a `.env` file via python-dotenv).

Every setting is documented in the README. Nothing here connects to a server;
`dal.server.resolve_conninfo` turns the settings into a connection string.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from dotenv import dotenv_values

from dal.arguments import checked
from dal.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@checked
def packaged(name: str) -> Path | None:
    """The directory `name` the wheel puts inside the package (``_sql``,
    ``_migrations``), found with importlib.resources; None in a source checkout."""
    from importlib.resources import files

    found = files("dal") / name
    return Path(str(found)) if found.is_dir() else None


@checked
def source_checkout() -> Path | None:
    """The project's checkout when the package runs from one (its `sql/` and
    `migrations/` beside `dal/`), else None: an installed package never reads or
    writes the top of site-packages."""
    if packaged("_migrations") is None and (PROJECT_ROOT / "pyproject.toml").is_file():
        return PROJECT_ROOT
    return None


@checked
def checkout_for(what: str) -> Path:
    """The source checkout, for a command that writes into it (`what`); ConfigError
    in an installed package, whose files are not the project's to change."""
    root = source_checkout()
    if root is None:
        raise ConfigError(
            f"{what} writes into the project's source files: run it from a checkout of "
            "the project, not from an installed package"
        )
    return root


_SSL_MODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}
_DURATION = re.compile(r"^\s*(\d+)\s*(ms|s|min)?\s*$")
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class Roles:
    """The three database roles the migrations create and grant to (migration 0038):
    the schema's owner, the application, and a read-only reader."""

    owner: str = "dal_owner"
    app: str = "dal_app"
    readonly: str = "dal_readonly"


@dataclass(frozen=True)
class Settings:
    """The data layer's configuration. Build it with `Settings.from_env()`."""

    database_url: str | None = None
    migrations_url: str | None = None
    roles: Roles = Roles()
    pool_size: int = 10
    max_overflow: int = 20
    pool_timeout: float = 30.0
    pool_max_waiting: int = 0
    statement_timeout_ms: int = 0
    idle_in_transaction_timeout_ms: int = 0
    prepare_threshold: int | None = 5
    slow_query_ms: int = 500
    replica_urls: tuple[str, ...] = ()
    replica_max_lag_ms: int = 10_000
    replica_queries: frozenset[str] = frozenset()
    redis_url: str | None = None
    redis_timeout_ms: int = 10
    cache_namespace: str | None = None
    cache_ttl_s: int = 300
    # The embedded server's data: under the working directory, never in the package.
    data_dir: Path = field(default_factory=lambda: Path.cwd() / ".pgdata")

    @property
    def pool_max_size(self) -> int:
        return self.pool_size + self.max_overflow

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, dotenv: Path | None = None
    ) -> Settings:
        """Read settings from `environ` (default: os.environ) over a `.env` file.

        Variables already in the environment win over the `.env` file.
        """
        env: dict[str, str] = {}
        env_file = dotenv if dotenv is not None else Path.cwd() / ".env"
        if env_file.is_file():
            env.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
        env.update(os.environ if environ is None else environ)

        url = env.get("DATABASE_URL", "").strip() or None
        migrations_url = env.get("MIGRATIONS_DATABASE_URL", "").strip() or None
        if url is not None:
            validate_url(url)
        if migrations_url is not None:
            validate_url(migrations_url, "MIGRATIONS_DATABASE_URL")
        prepare = env.get("DATABASE_PREPARE_THRESHOLD", "5").strip().lower()
        return cls(
            database_url=url,
            migrations_url=migrations_url,
            roles=Roles(
                owner=_role(env, "DATABASE_OWNER_ROLE", Roles.owner),
                app=_role(env, "DATABASE_APP_ROLE", Roles.app),
                readonly=_role(env, "DATABASE_READONLY_ROLE", Roles.readonly),
            ),
            pool_size=_int(env, "DATABASE_POOL_SIZE", 10, minimum=1),
            max_overflow=_int(env, "DATABASE_MAX_OVERFLOW", 20, minimum=0),
            pool_timeout=_float(env, "DATABASE_POOL_TIMEOUT", 30.0),
            pool_max_waiting=_int(env, "DATABASE_POOL_MAX_WAITING", 0, minimum=0),
            statement_timeout_ms=_duration_ms(env, "DATABASE_STATEMENT_TIMEOUT", "0"),
            idle_in_transaction_timeout_ms=_duration_ms(
                env, "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT", "0"
            ),
            prepare_threshold=None
            if prepare in {"off", "none", "false"}
            else _int(env, "DATABASE_PREPARE_THRESHOLD", 5, minimum=0),
            slow_query_ms=_duration_ms(env, "DATABASE_SLOW_QUERY_MS", "500"),
            replica_urls=_replica_urls(env),
            replica_max_lag_ms=_duration_ms(env, "DATABASE_REPLICA_MAX_LAG", "10s"),
            replica_queries=frozenset(
                name.strip()
                for name in env.get("DATABASE_REPLICA_QUERIES", "").split(",")
                if name.strip()
            ),
            redis_url=_redis_url(env),
            cache_namespace=env.get("REDIS_CACHE_NAMESPACE", "").strip() or None,
            redis_timeout_ms=_at_least(env, "REDIS_TIMEOUT", "10ms", 1),
            cache_ttl_s=_at_least(env, "REDIS_CACHE_TTL", "300s", 1000) // 1000,
            data_dir=Path(env["DAL_DATA_DIR"])
            if env.get("DAL_DATA_DIR")
            else Path.cwd() / ".pgdata",
        )


@checked
def validate_url(url: str, name: str = "DATABASE_URL") -> dict[str, str]:
    """Check that `url` (the setting `name`) is a PostgreSQL URL libpq accepts; return its
    parts."""
    if not re.match(r"^postgres(ql)?://", url):
        raise ConfigError(
            f"{name} must start with postgresql:// (got {redact(url)!r}); "
            "example: postgresql://user:password@localhost:5432/dbname"
        )
    try:
        parts = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        raise ConfigError(
            f"{name} is not a valid connection URL: {redact(url)!r}; "
            "example: postgresql://user:password@localhost:5432/dbname"
        ) from None
    for port in str(parts.get("port") or "5432").split(","):
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"{name} has an invalid port {port!r}: {redact(url)!r}")
    sslmode = parts.get("sslmode")
    if sslmode is not None and sslmode not in _SSL_MODES:
        raise ConfigError(
            f"{name} has sslmode={sslmode!r}; use one of {', '.join(sorted(_SSL_MODES))}"
        )
    return {k: str(v) for k, v in parts.items() if v is not None}


@checked
def redact(url: str) -> str:
    """Hide the password of a URL or key=value connection string."""
    # Any scheme (a wrong one is reported too); up to the last "@", since an
    # unencoded password may itself hold "@" or "/": hiding too much beats leaking.
    url = re.sub(r"([a-z][a-z0-9+.-]*://[^:/@?#]*:).*@", r"\1***@", url, flags=re.IGNORECASE)
    return re.sub(r"(password\s*=\s*)('[^']*'|\S+)", r"\1***", url)


@checked
def describe(conninfo: str) -> str:
    """A short, password-free description of where a connection string points."""
    try:
        parts = psycopg.conninfo.conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return redact(conninfo)
    hosts = str(parts.get("host") or "localhost").split(",")
    ports = str(parts.get("port") or "5432").split(",")
    ports += ports[-1:] * (len(hosts) - len(ports))  # libpq: one port serves every host
    where = ",".join(f"{host}:{port}" for host, port in zip(hosts, ports, strict=False))
    return f"{parts.get('user', '')}@{where}/{parts.get('dbname', '')}"


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _at_least(env: Mapping[str, str], name: str, default: str, minimum_ms: int) -> int:
    """A duration setting in milliseconds, refused below `minimum_ms`."""
    value = _duration_ms(env, name, default)
    if value < minimum_ms:
        least = f"{minimum_ms // 1000}s" if minimum_ms >= 1000 else f"{minimum_ms}ms"
        raise ConfigError(f"{name} must be at least {least}, got {env.get(name)!r}")
    return value


def _replica_urls(env: Mapping[str, str]) -> tuple[str, ...]:
    urls = tuple(u.strip() for u in env.get("DATABASE_REPLICA_URLS", "").split(",") if u.strip())
    for url in urls:
        validate_url(url, "DATABASE_REPLICA_URLS")
    return urls


def _redis_url(env: Mapping[str, str]) -> str | None:
    raw = env.get("REDIS_URL", "").strip()
    if not raw:
        return None
    if not re.match(r"^(redis|rediss|unix)://", raw):
        raise ConfigError(
            f"REDIS_URL must start with redis://, rediss:// or unix:// (got {redact(raw)!r}); "
            "example: redis://localhost:6379/0"
        )
    return raw


def _role(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name, "").strip() or default
    if not _ROLE_NAME.match(raw):
        raise ConfigError(
            f"{name} must be a role name of lower-case letters, digits and _ "
            f"(at most 63, not starting with a digit), got {raw!r}"
        )
    return raw


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {raw!r}")
    return value


def _duration_ms(env: Mapping[str, str], name: str, default: str) -> int:
    """Parse '500ms', '30s', '2min' or a bare number of milliseconds."""
    raw = env.get(name, "").strip() or default
    return parse_duration_ms(raw, name)


@checked
def parse_duration_ms(raw: str, name: str) -> int:
    match = _DURATION.match(raw)
    if match is None:
        raise ConfigError(f"{name} must be a duration like 500ms, 30s or 2min; got {raw!r}")
    number, unit = int(match.group(1)), match.group(2) or "ms"
    return number * {"ms": 1, "s": 1000, "min": 60_000}[unit]
