"""Webhook channel: each event (or digest) POSTed as JSON, signed per Standard Webhooks.

Headers, as https://www.standardwebhooks.com specifies them:

- ``webhook-id``: the event id (a digest's id), the same on every retry
- ``webhook-timestamp``: unix seconds of this attempt
- ``webhook-signature``: ``v1,`` + base64 HMAC-SHA256 of ``"{id}.{timestamp}.{body}"``
  keyed with the secret: a ``whsec_<base64>`` secret is base64-decoded to the key (so the
  spec's verification libraries work unchanged), any other string is used as UTF-8 bytes.

The POST goes through the one HTTP client (``Fetcher.post``), with a policy of its own:
the endpoint is chosen by the user and may sit on a private network, so private addresses
are allowed; nothing is retried here (the relay does that); and redirects are not
followed: a signed POST should reach exactly the configured URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from email.message import Message
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlsplit

from monitor.alerts.base import Channel, DeliveryError
from monitor.alerts.payload import message_document
from monitor.clock import Clock, utc_now
from monitor.config import DEFAULT_USER_AGENT, WHSEC_PREFIX, FetchSettings, WebhookConfig
from monitor.errors import FetchError
from monitor.fetch import Fetcher, HTTPReply
from monitor.http_headers import parse_retry_after
from monitor.models import AlertMessage
from monitor.transport import Transport

if TYPE_CHECKING:
    import httpx

SIGNATURE_VERSION = "v1"
RETRYABLE_STATUSES = frozenset({408, 425, 429})  # and every 5xx
SNIPPET_CHARS = 200  # of an error response's body, quoted in the error message
CONNECTIONS = 100  # to one endpoint at once: the relay's own limit is what holds
# The relay bounds a send by its lease; the fetcher's deadline must not cut in first.
DEADLINE = 24 * 3600.0


def signing_key(secret: str) -> bytes:
    """The HMAC key of ``secret``: base64-decoded after ``whsec_``, else its UTF-8 bytes."""
    if secret.startswith(WHSEC_PREFIX):
        return base64.b64decode(secret.removeprefix(WHSEC_PREFIX), validate=True)
    return secret.encode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: ``v1,<base64 HMAC-SHA256>`` of id, time and body."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def encode_body(document: Mapping[str, object]) -> bytes:
    """Compact UTF-8 JSON: the exact bytes that are signed and sent."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


class WebhookChannel(Channel[WebhookConfig]):
    """POST each change as signed JSON (Standard Webhooks headers) to a URL you run."""

    kind: ClassVar[str] = "webhook"

    def __init__(
        self,
        config: WebhookConfig,
        *,
        clock: Clock = utc_now,
        user_agent: str = DEFAULT_USER_AGENT,
        transport: httpx.AsyncBaseTransport | Transport | None = None,
    ) -> None:
        super().__init__(config, clock)
        self._origin = _origin(config.url)
        self._secrets = _secret_parts(config)
        self._http = Fetcher(fetch_settings(config, user_agent), transport=transport, clock=clock)

    async def send(self, message: AlertMessage) -> None:
        """POST ``message``; return on 2xx, raise ``DeliveryError`` otherwise."""
        body = encode_body(message_document(message))
        timestamp = int(self._clock().timestamp())
        secret = self.config.secret.get_secret_value()
        headers = {
            **self.config.headers,
            "content-type": "application/json",
            "webhook-id": message.event_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, message.event_id, timestamp, body),
        }
        try:
            reply = await self._http.post(self.config.url, body, headers)
        except FetchError as exc:
            # Its reason says what failed ("connection refused", "timed out"); its URL,
            # which may carry a token, is left out.
            raise self._error(exc.reason, permanent=False) from exc
        self._check(reply)

    async def aclose(self) -> None:
        await self._http.aclose()

    def _check(self, reply: HTTPReply) -> None:
        status = reply.status
        if 200 <= status < 300:
            return
        reason = f"HTTP {status}"
        text = _decoded(reply.body, reply.headers.get("content-type", ""))
        snippet = " ".join(text[:SNIPPET_CHARS].split())
        if snippet:
            reason += f": {snippet}"
        if status in RETRYABLE_STATUSES or status >= 500:
            value = reply.headers.get("retry-after")
            retry_after = parse_retry_after(value, self._clock()) if value else None
            raise self._error(reason, permanent=False, retry_after=retry_after)
        if 300 <= status < 400:
            reason += " (redirects are not followed: configure the final URL)"
        raise self._error(reason, permanent=True)

    def _error(
        self, reason: str, *, permanent: bool, retry_after: float | None = None
    ) -> DeliveryError:
        # A receiver's error page may quote the request back: its path, its headers.
        for secret in self._secrets:
            reason = reason.replace(secret, "***")
        return DeliveryError(
            self.name, f"{self._origin}: {reason}", permanent=permanent, retry_after=retry_after
        )


def fetch_settings(config: WebhookConfig, user_agent: str) -> FetchSettings:
    """The HTTP client's settings for one webhook: its timeout, any address."""
    return FetchSettings(
        user_agent=user_agent,
        timeout=config.timeout,
        deadline=DEADLINE,
        concurrency=CONNECTIONS,
        per_host_concurrency=CONNECTIONS,
        # The user configured this endpoint, and it may well be next door.
        allow_private_addresses=True,
    )


def _decoded(body: bytes, content_type: str) -> str:
    """``body`` as text, in the Content-Type's charset (UTF-8 when none or unknown)."""
    header = Message()
    header["content-type"] = content_type
    try:
        return body.decode(header.get_content_charset() or "utf-8", "replace")
    except LookupError:
        return body.decode("utf-8", "replace")


def _secret_parts(config: WebhookConfig) -> list[str]:
    """What an error message must not repeat, longest first: the secret, the URL and its
    path, query and userinfo (hook URLs carry tokens there, whole or as one segment), and
    the configured header values, whole and word by word ("Bearer <token>")."""
    parts = urlsplit(config.url)
    found = [config.secret.get_secret_value(), config.url, parts.path, parts.query]
    found += re.split(r"[/?&=;]", f"{parts.path}?{parts.query}")
    found += [parts.netloc.rpartition("@")[0]] if "@" in parts.netloc else []
    for value in config.headers.values():
        found += [value, *value.split()]
    return sorted({part for part in found if len(part) >= 8}, key=len, reverse=True)


def _origin(url: str) -> str:
    """Scheme, host and port only: paths and userinfo of hook URLs often hold tokens."""
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<webhook URL>"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}"
