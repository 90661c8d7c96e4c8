"""Webhook channel: each event (or digest) POSTed as JSON, signed per Standard Webhooks.

Headers, as https://www.standardwebhooks.com specifies them:

- ``webhook-id``: the event id (a digest's id), the same on every retry
- ``webhook-timestamp``: unix seconds of this attempt
- ``webhook-signature``: ``v1,`` + base64 HMAC-SHA256 of ``"{id}.{timestamp}.{body}"``
  keyed with the secret: a ``whsec_<base64>`` secret is base64-decoded to the key (so the
  spec's verification libraries work unchanged), any other string is used as UTF-8 bytes.

The endpoint is chosen by the user and may sit on a private network, so this client is
its own, not the article fetcher with its public-address policy. Redirects are not
followed: a signed POST should reach exactly the configured URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import ClassVar
from urllib.parse import urlsplit

import httpx

from monitor.alerts.base import DeliveryError
from monitor.alerts.payload import message_document
from monitor.config import DEFAULT_USER_AGENT, WHSEC_PREFIX, WebhookConfig
from monitor.fetch import parse_retry_after, utc_now
from monitor.models import AlertMessage

Clock = Callable[[], datetime]

SIGNATURE_VERSION = "v1"
RETRYABLE_STATUSES = frozenset({408, 425, 429})  # and every 5xx
SNIPPET_CHARS = 200  # of an error response's body, quoted in the error message


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


class WebhookChannel:
    """POST each change as signed JSON (Standard Webhooks headers) to a URL you run."""

    kind: ClassVar[str] = "webhook"

    def __init__(
        self,
        config: WebhookConfig,
        *,
        clock: Clock = utc_now,
        user_agent: str = DEFAULT_USER_AGENT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        self.name = config.name
        self._clock = clock
        self._origin = _origin(config.url)
        self._secrets = _secret_parts(config)
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(config.timeout),
            follow_redirects=False,
            # Proxy variables are meant for the fetcher's public traffic, not for a hook
            # that may live next door; the user configures the exact endpoint.
            trust_env=False,
            headers={"user-agent": user_agent},
            transport=transport,
        )

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
            response = await self._client.post(self.config.url, content=body, headers=headers)
        except httpx.UnsupportedProtocol as exc:
            raise self._error("unsupported URL scheme", permanent=True) from exc
        except httpx.TimeoutException as exc:
            raise self._error(f"timed out ({type(exc).__name__})", permanent=False) from exc
        except httpx.HTTPError as exc:
            # httpx messages say what failed ("Connection refused") without the URL.
            reason = str(exc).replace(self.config.url, self._origin) or type(exc).__name__
            raise self._error(reason, permanent=False) from exc
        self._check(response)

    async def aclose(self) -> None:
        await self._client.aclose()

    def _check(self, response: httpx.Response) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        reason = f"HTTP {status}"
        snippet = " ".join(response.text[:SNIPPET_CHARS].split())
        if snippet:
            reason += f": {snippet}"
        if status in RETRYABLE_STATUSES or status >= 500:
            value = response.headers.get("retry-after")
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
