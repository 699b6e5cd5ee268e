"""``--log-format json``: one JSON object per log line, for log shippers.

Each line has ``time`` (ISO 8601 UTC), ``level``, ``logger``, ``message``,
and always ``action`` and ``job_id`` (null when the event has none), then
every other ``extra=`` field of the event (``task``, ``attempt``,
``process_id``, ...) and ``exc_info`` text when there is one. Only the CLI
installs it; the library never configures logging.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

__all__ = ["JsonFormatter"]

# Attributes every LogRecord has: everything else came from ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


class JsonFormatter(logging.Formatter):
    """Format a record as one line of JSON with stable ``action`` and ``job_id`` keys."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "action": getattr(record, "action", None),
            "job_id": getattr(record, "job_id", None),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in data:
                data[key] = value
        if record.exc_info:
            data["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)
