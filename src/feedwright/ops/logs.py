"""Logging for the long-running commands: one line per record on stderr, as text or as JSON for log shippers.

The library only emits records (logger ``feedwright``); the command line decides where they go, here.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(message)s"
_HANDLER_NAME = "feedwright-stderr"


class JSONFormatter(logging.Formatter):
    """A JSON object per line: ``time``, ``level``, ``logger``, ``message``, plus the record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            data.update({k: v for k, v in fields.items() if k not in data})
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


def setup_logging(fmt: str = "text", level: int = logging.INFO) -> None:
    """Send every record at ``level`` and above to stderr in ``fmt`` (``text`` or ``json``)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.set_name(_HANDLER_NAME)
    root = logging.getLogger()
    # Replace only our own handler (setup twice in one process); others' handlers are theirs.
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # APScheduler reports every job start and finish at INFO, and skipped runs at WARNING; the daemon logs
    # what matters of those itself, so only APScheduler's own errors pass.
    logging.getLogger("apscheduler").setLevel(max(level, logging.ERROR))
