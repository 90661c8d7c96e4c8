"""Logging (monitor/logs.py): secrets redacted from every record, JSON lines with extra fields."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from datetime import datetime

import pytest

from monitor.logs import JSONFormatter, RedactFilter, setup_logging


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    made = logging.makeLogRecord(
        {"name": "monitor.test", "levelno": logging.INFO, "levelname": "INFO"}
    )
    made.msg, made.args = message, args
    made.__dict__.update(extra)
    return made


@pytest.mark.parametrize(
    ("secrets", "message", "args", "logged"),
    [
        ((), "plain %s", ("words",), "plain words"),
        ((), "db postgresql://nm:hunter2@db/nm", (), "db postgresql://***@db/nm"),
        ((), "url %s", ("https://u:p@example.org/x",), "url https://***@example.org/x"),
        (("s3cret-token",), "token=%s", ("s3cret-token",), "token=***"),
        (("abc",), "abc is too short to be a secret", (), "abc is too short to be a secret"),
        (("whsec_1", "whsec_2"), "whsec_1 and whsec_2", (), "*** and ***"),
    ],
)
def test_redact_filter(secrets, message, args, logged):
    made = record(message, *args)
    assert RedactFilter(secrets).filter(made) is True  # redacts, never drops
    assert made.getMessage() == logged


def test_json_formatter_writes_one_object_with_extra_fields():
    line = JSONFormatter().format(record("feed %s checked", "world", job="feed world", n=3))
    assert "\n" not in line
    document = json.loads(line)
    assert document["message"] == "feed world checked"
    assert (document["level"], document["logger"]) == ("info", "monitor.test")
    assert (document["job"], document["n"]) == ("feed world", 3)
    assert datetime.fromisoformat(document["time"]).utcoffset() is not None
    assert "error" not in document


def test_json_formatter_keeps_the_traceback_of_an_exception():
    try:
        raise ValueError("boom")
    except ValueError:
        made = record("failed")
        made.exc_info = sys.exc_info()
    document = json.loads(JSONFormatter().format(made))
    assert "ValueError: boom" in document["error"]


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in ("monitor", "apscheduler")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, saved in levels.items():
        logging.getLogger(name).setLevel(saved)


def test_setup_logging_sends_json_to_stderr_with_secrets_redacted(restored_logging, capsys):
    setup_logging("json", logging.DEBUG, secrets=["hunter2-secret"])
    logging.getLogger("monitor.test").debug("password hunter2-secret", extra={"feed": "w"})
    logging.getLogger("apscheduler.scheduler").info("narration")  # below WARNING: dropped
    lines = capsys.readouterr().err.splitlines()
    assert [json.loads(line)["message"] for line in lines] == ["password ***"]
    assert json.loads(lines[0])["feed"] == "w"
