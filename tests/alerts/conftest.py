"""Fixtures of the alert tests: a loopback SMTP server that asks for a login."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.alerts.samples import authenticate
from tests.smtpserver import LoopbackController, Mailbox


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    controller = LoopbackController(
        box,
        hostname="127.0.0.1",
        port=0,
        auth_require_tls=False,
        authenticator=authenticate,
    )
    controller.start()
    yield box, controller.port
    controller.stop()
