"""Email channel: each event (or digest) as a multipart text + HTML mail over SMTP.

smtplib is blocking, so a delivery runs in a worker thread. SMTP's own reply classes
decide retries: 5xx is permanent, 4xx and connection trouble are transient. The
``Message-ID`` derives from the event id, so a retried delivery that did arrive the
first time can be recognized as a duplicate by the receiving side.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import ClassVar

from monitor.alerts.base import Channel, DeliveryError
from monitor.alerts.payload import html_body, subject, text_body
from monitor.clock import Clock, utc_now
from monitor.config import EmailConfig
from monitor.models import AlertMessage

log = logging.getLogger(__name__)

FALLBACK_DOMAIN = "newsmonitor.invalid"


def message_id(event_id: str, sender: str) -> str:
    """``<{event_id}.newsmonitor@{sender's domain}>``: unique per event, the same on retry."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or FALLBACK_DOMAIN
    return f"<{event_id}.newsmonitor@{domain}>"


def envelope_address(address: str) -> str:
    """The bare address of "Name <addr>", for the SMTP envelope."""
    return parseaddr(address)[1] or address


class EmailChannel(Channel[EmailConfig]):
    """Mail each change, text and HTML with the marked-up diff, through an SMTP server."""

    kind: ClassVar[str] = "email"

    def __init__(
        self,
        config: EmailConfig,
        *,
        clock: Clock = utc_now,
        local_hostname: str | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(config, clock)
        # None lets smtplib ask the system for our FQDN, which may mean a DNS lookup.
        self._local_hostname = local_hostname
        self._tls_context = tls_context

    def compose(self, message: AlertMessage) -> EmailMessage:
        """The mail for ``message``: multipart/alternative, text first, HTML preferred."""
        mail = EmailMessage()
        mail["Subject"] = subject(message.events)
        mail["From"] = self.config.sender
        mail["To"] = ", ".join(self.config.recipients)
        mail["Date"] = format_datetime(self._clock())
        mail["Message-ID"] = message_id(message.event_id, self.config.sender)
        # RFC 3834: vacation responders and the like must not answer a machine.
        mail["Auto-Submitted"] = "auto-generated"
        mail["X-Newsmonitor-Event"] = message.event_id
        mail.set_content(text_body(message))
        mail.add_alternative(html_body(message), subtype="html")
        return mail

    async def send(self, message: AlertMessage) -> None:
        """Hand ``message`` to the SMTP server; raise ``DeliveryError`` if it is not taken."""
        mail = self.compose(message)
        await asyncio.to_thread(self._deliver, mail)

    async def aclose(self) -> None:
        """Nothing held: each delivery opens and closes its own SMTP session."""

    def _deliver(self, mail: EmailMessage) -> None:
        config = self.config
        where = f"{config.host}:{config.smtp_port}"
        try:
            refused = self._transmit(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise self._error(
                f"{where}: all recipients refused ({_replies(exc.recipients)})",
                permanent=all(code >= 500 for code in codes),
            ) from exc
        except smtplib.SMTPResponseException as exc:
            # Covers a refused sender, a refused message, a failed login and an
            # unexpected reply on connect; the reply class decides.
            raise self._error(
                f"{where}: {type(exc).__name__}: {exc.smtp_code} {_text(exc.smtp_error)}",
                permanent=exc.smtp_code >= 500,
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            # STARTTLS or AUTH asked of a server without it: the config must change.
            raise self._error(f"{where}: {exc}", permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            # Refused or dropped connections, timeouts, TLS failures: try again later.
            reason = str(exc) or type(exc).__name__
            raise self._error(f"{where}: {type(exc).__name__}: {reason}", permanent=False) from exc
        if refused:
            # The others have the mail; a retry would send it to them twice.
            log.warning("%s: some recipients refused: %s", self.name, _replies(refused))

    def _transmit(self, mail: EmailMessage) -> Mapping[str, tuple[int, bytes]]:
        config = self.config
        context = self._tls_context or ssl.create_default_context()
        smtp: smtplib.SMTP
        if config.security == "tls":
            smtp = smtplib.SMTP_SSL(
                config.host,
                config.smtp_port,
                local_hostname=self._local_hostname,
                timeout=config.timeout,
                context=context,
            )
        else:
            smtp = smtplib.SMTP(
                config.host,
                config.smtp_port,
                local_hostname=self._local_hostname,
                timeout=config.timeout,
            )
        with smtp:
            if config.security == "starttls":
                smtp.starttls(context=context)
            if config.username is not None and config.password is not None:
                smtp.login(config.username, config.password.get_secret_value())
            return smtp.send_message(
                mail,
                from_addr=envelope_address(config.sender),
                to_addrs=[envelope_address(r) for r in config.recipients],
            )

    def _error(self, reason: str, *, permanent: bool) -> DeliveryError:
        password = self.config.password.get_secret_value() if self.config.password else ""
        if password:
            # No server should echo the password, but if one does it stops here.
            reason = reason.replace(password, "***")
        return DeliveryError(self.name, reason, permanent=permanent)


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())


def _replies(refused: Mapping[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{address}: {code} {_text(reply)}" for address, (code, reply) in refused.items()
    )
