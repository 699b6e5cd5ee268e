"""A worker subprocess: start, resident memory, graceful stop, log tail."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["WorkerProcess", "rss_kb"]


def rss_kb(pid: int) -> int | None:
    """VmRSS of process ``pid`` in kB from /proc (None when it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


class WorkerProcess:
    """A subprocess whose output goes to a temporary log file.

    :param cmd: the command line.
    :param env: extra environment variables.
    :param cwd: working directory (the repository root, so ``bench`` imports).
    """

    def __init__(self, cmd: Sequence[str], env: Mapping[str, str], cwd: str | Path) -> None:
        self.cmd = list(cmd)
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in stop()
            prefix="goodjob-bench-worker-", suffix=".log", delete=False
        )
        full_env = dict(os.environ)
        full_env.update(env)
        pythonpath = full_env.get("PYTHONPATH")
        full_env["PYTHONPATH"] = str(cwd) if not pythonpath else f"{cwd}{os.pathsep}{pythonpath}"
        self.started = time.monotonic()
        self._proc = subprocess.Popen(
            self.cmd, cwd=cwd, env=full_env, stdout=self._log, stderr=subprocess.STDOUT
        )

    @property
    def pid(self) -> int:
        """The process id."""
        return self._proc.pid

    @property
    def alive(self) -> bool:
        """True while the process runs."""
        return self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        """The exit code, once it exited."""
        return self._proc.poll()

    def rss_kb(self) -> int | None:
        """Resident memory in kB (None once it exited)."""
        return rss_kb(self.pid) if self.alive else None

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, wait up to ``timeout`` seconds, then SIGKILL; return the exit code."""
        if self.alive:
            self._proc.send_signal(signal.SIGTERM)
        try:
            code = self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            code = self._proc.wait()
        self._log.close()
        return code

    def log_tail(self, chars: int = 2000) -> str:
        """The last characters the process printed."""
        self._log.flush()
        try:
            return Path(self._log.name).read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def cleanup(self) -> None:
        """Stop the process if needed and delete its log."""
        if self.alive:
            self.stop()
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)
