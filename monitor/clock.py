"""Time as the rest of the code asks for it: the current UTC instant, and a type to inject it.

Modules that read the time take a ``Clock`` (default ``utc_now``), so tests can move time
forward instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)
