"""Settings from the environment and .env, URL validation, password redaction."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from dal.config import Settings, describe, redact, validate_url
from dal.db import open_pool
from dal.errors import ConfigError, Unavailable


def test_defaults() -> None:
    settings = Settings.from_env({}, dotenv=Path("/nonexistent"))
    assert settings.database_url is None
    assert (settings.pool_size, settings.max_overflow, settings.pool_max_size) == (10, 20, 30)
    assert settings.pool_timeout == 30.0
    assert settings.statement_timeout_ms == 0
    assert settings.prepare_threshold == 5
    assert settings.redis_url is None  # no cache unless REDIS_URL is set


def test_every_setting_is_read() -> None:
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://u:p@db.example:6432/app?sslmode=require",
            "DATABASE_POOL_SIZE": "4",
            "DATABASE_MAX_OVERFLOW": "6",
            "DATABASE_POOL_TIMEOUT": "2.5",
            "DATABASE_POOL_MAX_WAITING": "50",
            "DATABASE_STATEMENT_TIMEOUT": "3s",
            "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT": "1min",
            "DATABASE_PREPARE_THRESHOLD": "off",
            "DAL_DATA_DIR": "/tmp/elsewhere",
            "REDIS_URL": "redis://cache.example:6380/2",
            "REDIS_TIMEOUT": "15ms",
            "REDIS_CACHE_TTL": "2min",
            "REDIS_CACHE_NAMESPACE": "orders-db",
        },
        dotenv=Path("/nonexistent"),
    )
    assert settings.pool_max_size == 10
    assert settings.pool_timeout == 2.5
    assert settings.pool_max_waiting == 50
    assert settings.statement_timeout_ms == 3000
    assert settings.idle_in_transaction_timeout_ms == 60_000
    assert settings.prepare_threshold is None
    assert settings.data_dir == Path("/tmp/elsewhere")
    assert settings.redis_url == "redis://cache.example:6380/2"
    assert (settings.redis_timeout_ms, settings.cache_ttl_s) == (15, 120)
    assert settings.cache_namespace == "orders-db"


def test_dotenv_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DATABASE_POOL_SIZE=7\nDATABASE_MAX_OVERFLOW=1\n")
    settings = Settings.from_env({"DATABASE_MAX_OVERFLOW": "3"}, dotenv=env_file)
    assert (settings.pool_size, settings.max_overflow) == (7, 3)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DATABASE_POOL_SIZE", "ten", "DATABASE_POOL_SIZE must be an integer"),
        ("DATABASE_POOL_SIZE", "0", "DATABASE_POOL_SIZE must be at least 1"),
        ("DATABASE_POOL_TIMEOUT", "-1", "DATABASE_POOL_TIMEOUT must be positive"),
        ("DATABASE_STATEMENT_TIMEOUT", "soon", "DATABASE_STATEMENT_TIMEOUT must be a duration"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL must start with postgresql://"),
        ("DATABASE_URL", "postgresql://h:notaport/db", "invalid port"),
        ("DATABASE_URL", "postgresql://h/db?sslmode=maybe", "sslmode='maybe'"),
        ("REDIS_URL", "http://cache:6379", "REDIS_URL must start with redis://"),
        ("REDIS_TIMEOUT", "0", "REDIS_TIMEOUT must be at least 1ms"),
        ("REDIS_CACHE_TTL", "500ms", "REDIS_CACHE_TTL must be at least 1s"),
    ],
)
def test_bad_settings_name_the_setting(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({name: value}, dotenv=Path("/nonexistent"))


def test_passwords_never_appear_in_messages() -> None:
    url = "postgresql://app:s3cr3t@db.example:5432/app"
    assert "s3cr3t" not in redact(url)
    assert "s3cr3t" not in redact("host=db password=s3cr3t dbname=app")
    assert "s3cr3t" not in describe(url)
    with pytest.raises(ConfigError) as caught:
        validate_url("postgresql://app:s3cr3t@db.example:99999/app")
    assert "s3cr3t" not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://app:s3cr3t@db/app",  # a SQLAlchemy-style scheme
        "mysql://app:s3cr3t@db/app",  # not ours at all
        "postgresql://app:s3/cr3t@db:5432/app",  # unencoded "/" in the password
        "postgresql://app:s3@cr3t@db:notaport/app",  # unencoded "@", and a bad port
    ],
)
def test_a_malformed_url_never_shows_its_password(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"DATABASE_URL": url}, dotenv=Path("/nonexistent"))
    assert "cr3t" not in str(caught.value)
    assert "cr3t" not in redact(url)


def test_sslmode_from_the_url_reaches_libpq(db_url: str) -> None:
    url = psycopg.conninfo.make_conninfo(db_url, sslmode="require")
    params = psycopg.conninfo.conninfo_to_dict(url)
    settings = Settings(pool_size=1, max_overflow=0, pool_timeout=3.0)
    if str(params.get("host", "")).startswith("/"):
        # libpq never uses SSL on a Unix socket: the mode is kept, and ignored.
        pool = open_pool(url, settings)
        with pool.connection() as conn:
            assert "sslmode=require" in conn.info.dsn
        pool.close()
        return
    with psycopg.connect(db_url) as conn:
        ssl_on = conn.execute("SHOW ssl").fetchone() == ("on",)
    if ssl_on:
        pool = open_pool(url, settings)
        with pool.connection() as conn:
            assert conn.execute(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
            ).fetchone() == (True,)
        pool.close()
    else:
        with pytest.raises(Unavailable):
            open_pool(url, settings)


def test_a_malformed_conninfo_given_to_the_pool_never_shows_its_password() -> None:
    settings = Settings(pool_size=1, max_overflow=0, statement_timeout_ms=1000)
    with pytest.raises(ConfigError) as caught:
        open_pool("postgresql://app:s3cr3t@[::1/db", settings)
    assert "s3cr3t" not in str(caught.value)


def test_the_library_never_starts_a_server_by_itself(tmp_path: Path) -> None:
    from dal.server import resolve_conninfo

    settings = Settings(data_dir=tmp_path / "pgdata")
    with pytest.raises(ConfigError, match="DATABASE_URL is not set"):
        resolve_conninfo(settings)
    assert not (tmp_path / "pgdata").exists()
    assert resolve_conninfo(Settings(database_url="postgresql://h/db")) == "postgresql://h/db"
