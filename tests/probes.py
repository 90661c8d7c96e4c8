"""Functions a test sends to a worker process: they import nothing of the package, so the
worker's modules are what it loaded itself."""

from __future__ import annotations

import sys
import time


def loaded_soon(modules: tuple[str, ...], within: float = 30.0) -> bool:
    """Whether this process has imported ``modules`` within ``within`` seconds."""
    deadline = time.monotonic() + within
    while not all(name in sys.modules for name in modules):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
