"""The health-probe and metrics HTTP server of a worker (``--probe-port``).

A small threaded :mod:`http.server` on its own daemon thread. It answers
from state the worker already holds, never with a database query, so a
probe can neither slow the worker nor pile up connections:

- ``/`` and ``/status``: 200 while the process serves HTTP at all;
- ``/status/started``: 200 once the worker has started and every pool's
  thread runs (503 before, and once it is shutting down);
- ``/status/connected``: 200 while the lease-and-LISTEN connection is up
  with the lease held and no pool is backing off after a database error;
- ``/metrics``: Prometheus text (:mod:`goodjob_pg.metrics`).

Bodies are one short line of text.
"""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .worker import Worker

__all__ = ["ProbeServer"]

logger = logging.getLogger(__name__)

_METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class ProbeServer:
    """Serve the probes of ``worker`` on ``host:port`` (port 0: any free port).

    :param worker: the worker whose state is reported.
    :param port: TCP port.
    :param host: address to bind; default all interfaces (a pod's probes
        come from the kubelet).
    """

    def __init__(self, worker: Worker, port: int, host: str = "0.0.0.0") -> None:
        self.worker = worker
        handler = type("Handler", (_Handler,), {"probe": self})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="goodjob-probe", daemon=True
        )

    def start(self) -> None:
        """Start serving in a daemon thread."""
        self._thread.start()
        logger.info(
            "probe server listening on port %d", self.port, extra={"action": "probe_started"}
        )

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def answer(self, path: str) -> tuple[int, str, str]:
        """Status code, content type and body for a request path."""
        worker = self.worker
        path = path.split("?", 1)[0].rstrip("/") or "/"
        if path in ("/", "/status"):
            return 200, "text/plain", "OK"
        if path == "/status/started":
            ok = worker.started
            return (200 if ok else 503), "text/plain", "started" if ok else "not started"
        if path == "/status/connected":
            ok = worker.connected
            return (200 if ok else 503), "text/plain", "connected" if ok else "not connected"
        if path == "/metrics" and worker.metrics is not None:
            return 200, _METRICS_TYPE, worker.metrics.render(worker, worker.queue_depth)
        return 404, "text/plain", "not found"


class _Handler(BaseHTTPRequestHandler):
    probe: ProbeServer

    def do_GET(self) -> None:
        try:
            code, content_type, body = self.probe.answer(self.path)
        except Exception:  # a bug must not kill the server thread
            logger.exception("probe request failed", extra={"action": "probe_error"})
            code, content_type, body = 500, "text/plain", "error"
        data = body.encode() if body.endswith("\n") else (body + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr line (a probe every few seconds is noise)."""
