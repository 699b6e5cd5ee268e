"""``goodjob-pg run --daemonize --pidfile PATH``: run detached, with a pidfile.

:func:`check_pidfile` refuses a pidfile that names a live process (a worker
already running); a pidfile naming a dead process is stale and replaced.
:func:`daemonize` detaches with the classic double fork (the worker's threads
start only afterwards). The pidfile is written by the final process and
removed when it exits, if it still names it.

Standard input becomes ``/dev/null``; standard output and error stay where
the caller pointed them (redirect them to a file to keep the log).
"""

from __future__ import annotations

import atexit
import contextlib
import os
from pathlib import Path

__all__ = ["PidfileError", "check_pidfile", "daemonize", "write_pidfile"]


class PidfileError(Exception):
    """The pidfile names a live process, or cannot be written."""


def check_pidfile(path: str) -> None:
    """Raise PidfileError when ``path`` names a process that is alive."""
    try:
        text = Path(path).read_text().strip()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise PidfileError(f"cannot read pidfile {path}: {exc}") from exc
    if not text.isdigit():
        return  # garbage: treat as stale
    pid = int(text)
    if pid == os.getpid():
        return
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return
    except PermissionError:
        pass  # exists, owned by someone else
    raise PidfileError(f"pidfile {path} names process {pid}, which is running")


def write_pidfile(path: str) -> None:
    """Write this process's pid to ``path`` (atomically) and remove it at exit."""
    pid = os.getpid()
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{pid}")
    try:
        tmp.write_text(f"{pid}\n")
        os.replace(tmp, target)
    except OSError as exc:
        raise PidfileError(f"cannot write pidfile {path}: {exc}") from exc

    def remove() -> None:
        with contextlib.suppress(OSError):
            if target.read_text().strip() == str(pid):
                target.unlink()

    atexit.register(remove)


def daemonize() -> None:
    """Detach from the terminal: fork, new session, fork; the caller continues in the grandchild."""
    if os.fork() > 0:
        os._exit(0)
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
