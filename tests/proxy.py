"""A small threaded TCP proxy for fault tests.

The proxy listens on 127.0.0.1 (an ephemeral port) and relays every accepted
connection to a target address. Tests point a worker at the proxy and then
break the network on demand, without touching the shared Postgres server:

* :meth:`TCPProxy.cut` closes every relayed connection at once (both sides see
  EOF, as after a network reset or a server restart);
* :meth:`TCPProxy.refuse` makes new connections fail until :meth:`accept`;
* :meth:`TCPProxy.freeze` keeps the open connections open but relays nothing
  on them (a half-open or black-holed link) until :meth:`thaw`; connections
  made afterwards work normally. ``freeze(upstream_port=...)`` freezes only
  the connection whose upstream socket has that local port, which the
  server shows as ``pg_stat_activity.client_port``.

Usage::

    with TCPProxy("127.0.0.1", 5432) as proxy:
        url = f"postgresql://postgres@127.0.0.1:{proxy.port}/db"
        ...
        proxy.cut()
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType

__all__ = ["TCPProxy"]

_CHUNK = 65536


class _Link:
    """One relayed connection: a client socket and its upstream socket."""

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client = client
        self.upstream = upstream
        self.closed = threading.Event()
        self.thawed = threading.Event()
        self.thawed.set()
        self.upstream_port: int = upstream.getsockname()[1]

    def close(self) -> None:
        """Close both sockets (idempotent)."""
        if self.closed.is_set():
            return
        self.closed.set()
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class TCPProxy:
    """Relay TCP connections from ``127.0.0.1:<port>`` to ``host:port``.

    :param host: target host.
    :param port: target port.
    """

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(64)
        self.port: int = self._server.getsockname()[1]
        self._links: list[_Link] = []
        self._lock = threading.Lock()
        self._accepting = threading.Event()
        self._accepting.set()
        self._stopped = threading.Event()
        self.accepted = 0
        self._thread = threading.Thread(target=self._serve, name="tcp-proxy", daemon=True)
        self._thread.start()

    # -- faults -------------------------------------------------------------

    def cut(self) -> int:
        """Close every open relayed connection; return how many were cut."""
        with self._lock:
            links, self._links = self._links, []
        for link in links:
            link.close()
        return len(links)

    def refuse(self) -> None:
        """Close new connections as soon as they are accepted."""
        with self._lock:  # a connection being set up now is refused too
            self._accepting.clear()

    def accept(self) -> None:
        """Relay new connections again (undoes :meth:`refuse`)."""
        self._accepting.set()

    def freeze(self, upstream_port: int | None = None) -> int:
        """Stop relaying bytes on every open connection (sockets stay open).

        :param upstream_port: only the connection whose upstream socket is
            bound to this local port (the backend's ``client_port``).

        Returns how many connections were frozen.
        """
        with self._lock:
            links = [
                link
                for link in self._links
                if not link.closed.is_set()
                and (upstream_port is None or link.upstream_port == upstream_port)
            ]
        for link in links:
            link.thawed.clear()
        return len(links)

    def thaw(self) -> None:
        """Relay bytes again, including those held while frozen."""
        with self._lock:
            links = list(self._links)
        for link in links:
            link.thawed.set()

    @property
    def upstream_ports(self) -> list[int]:
        """Local ports of the open connections' upstream sockets (the server's ``client_port``)."""
        with self._lock:
            return [link.upstream_port for link in self._links if not link.closed.is_set()]

    @property
    def open_connections(self) -> int:
        """Number of relayed connections currently open."""
        with self._lock:
            self._links = [link for link in self._links if not link.closed.is_set()]
            return len(self._links)

    # -- lifecycle ----------------------------------------------------------

    def close(self) -> None:
        """Stop listening and cut every connection."""
        self._stopped.set()
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)  # wakes accept() on Linux
        self._server.close()
        self.cut()
        self._thread.join(timeout=2)

    def __enter__(self) -> TCPProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- relaying -----------------------------------------------------------

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if not self._accepting.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            link = _Link(client, upstream)
            with self._lock:
                if not self._accepting.is_set():  # refused while connecting upstream
                    link.close()
                    continue
                self._links.append(link)
                self.accepted += 1
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(
                    target=self._pump, args=(link, src, dst), name="tcp-proxy-pump", daemon=True
                ).start()

    def _pump(self, link: _Link, src: socket.socket, dst: socket.socket) -> None:
        try:
            while not link.closed.is_set():
                data = src.recv(_CHUNK)
                if not data:
                    break
                while not link.thawed.wait(0.05):
                    if link.closed.is_set():
                        return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            link.close()
