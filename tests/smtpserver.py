"""A real SMTP server on loopback for tests (aiosmtpd), keeping what it receives."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps what it receives and refuses what it is told to."""

    refuse: str | None = None  # an SMTP reply to every RCPT, e.g. "550 5.1.1 no such user"
    envelopes: list[Envelope] = field(default_factory=list)

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 OK"


class LoopbackController(Controller):
    """aiosmtpd's Controller on an ephemeral port (it only knows fixed ones)."""

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()
