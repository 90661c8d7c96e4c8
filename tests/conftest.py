"""Shared fixtures: a loopback web server and stores on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.webserver import WebServer

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture
def web() -> Iterator[WebServer]:
    server = WebServer().start()
    yield server
    server.stop()
