"""Log output for the worker command: Ruby's VERBOSE / VVERBOSE levels, as text or JSON lines."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import TextIO

__all__ = ["JsonFormatter", "configure_logging"]

_TEXT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time``, ``level``, ``pid``, ``logger``, ``message`` (and ``error``)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "pid": record.process,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(verbosity: int, fmt: str = "text", stream: TextIO | None = None) -> None:
    """Send ``resque_impl`` logs to ``stream`` (stderr): warnings only, ``1`` adds info (VERBOSE),
    ``2`` debug (VVERBOSE); ``fmt`` is ``text`` or ``json``."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(_TEXT))
    logger = logging.getLogger("resque_impl")
    for old in list(logger.handlers):
        logger.removeHandler(old)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbosity >= 2 else logging.INFO if verbosity == 1 else logging.WARNING)
    logger.propagate = False
