"""Logging for the daemon and the CLI: human-readable lines, or JSON lines for collectors.

Every record passes a redaction filter, so a secret that reached a message by accident
(a URL with a password, a configured webhook secret) is replaced before it is written.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from monitor.serialize import format_timestamp

LogFormat = Literal["text", "json"]
_USERINFO = re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+@")
# Attributes every LogRecord has; anything else was passed in `extra=` and is data.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class RedactFilter(logging.Filter):
    """Replace known secrets and URL passwords in every record's message."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if len(s) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = _USERINFO.sub("***@", message)
        for secret in self.secrets:
            clean = clean.replace(secret, "***")
        if clean != message:
            record.msg, record.args = clean, None
        return True


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and any `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": format_timestamp(datetime.fromtimestamp(record.created, UTC)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                document[key] = value
        if record.exc_info:
            document["error"] = self.formatException(record.exc_info)
        return json.dumps(document, default=str, ensure_ascii=False)


def setup_logging(
    fmt: LogFormat = "text", level: int = logging.INFO, secrets: Iterable[str] = ()
) -> None:
    """Send the monitor's logs to stderr in ``fmt``, with ``secrets`` redacted."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactFilter(secrets))
    if fmt == "json":
        handler.setFormatter(JSONFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%Y-%m-%d %H:%M:%S")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("monitor").setLevel(level)
    # APScheduler narrates every job run at INFO; its warnings (misfires) are what matter.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
