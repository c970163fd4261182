"""A TCP proxy in front of a real server that can cut a connection at one exact moment:
just after the server answered COMMIT, before the client hears it (a network cut, or a
client host dying, at the worst time)."""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType
from typing import Any

import psycopg

from tests.owned_server import free_port

# The server's CommandComplete for COMMIT: 'C', its length (4 + 7), "COMMIT\0".
COMMIT_DONE = b"C\x00\x00\x00\x0bCOMMIT\x00"


class CuttingProxy:
    """Listens on 127.0.0.1:`port`, forwarding to the server of `target_conninfo`. After
    `cut_next_commit()`, the next connection whose server answers COMMIT is closed
    instead of getting the answer."""

    def __init__(self, target_conninfo: str) -> None:
        parts = psycopg.conninfo.conninfo_to_dict(target_conninfo)
        host, port = str(parts.get("host") or "127.0.0.1"), int(parts.get("port") or 5432)
        # The server the tests run on: over TCP, or its Unix socket (the embedded one's).
        self._target: tuple[int, Any] = (
            (socket.AF_UNIX, f"{host}/.s.PGSQL.{port}")
            if host.startswith("/")
            else (socket.AF_INET, (host, port))
        )
        self.port = free_port()
        self.cuts = 0
        self._armed = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    def conninfo(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname} sslmode=disable"

    def cut_next_commit(self) -> None:
        self._armed.set()

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.socket(self._target[0], socket.SOCK_STREAM)
            server.connect(self._target[1])
            threading.Thread(target=self._pipe, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, True), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, from_server: bool) -> None:
        try:
            while data := source.recv(65536):
                if from_server and self._armed.is_set() and COMMIT_DONE in data:
                    self._armed.clear()
                    self.cuts += 1
                    break  # the answer never reaches the client
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()

    def close(self) -> None:
        self._closing = True
        self._listener.close()

    def __enter__(self) -> CuttingProxy:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
