"""Who may read the web pages: loopback by default; elsewhere a token or a user (issue 18).

Every secret comparison is constant-time (``hmac.compare_digest``), and a refusal says
nothing about which part was wrong. Passwords are kept as scrypt hashes; a correct one is
remembered (as an HMAC under a key made at start) so that a browser's Basic credentials,
sent with every request, cost one hash per process, not one per request.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from typing import Literal

from monitor.config import LOOPBACK_HOSTS, WebSettings
from monitor.errors import ConfigError

# scrypt's cost: about 50 ms and 16 MB per hash, paid once per process and user.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_HASH_BYTES = 32

Grant = Literal["all", "feeds"]


def hash_password(password: str, salt: bytes | None = None) -> str:
    """``scrypt$n$r$p$salt$hash``: the form ``[[web.users]] password_hash`` takes."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    encoded = [base64.b64encode(part).decode("ascii") for part in (salt, digest)]
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encoded[0]}${encoded[1]}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` is the one ``stored`` (a ``hash_password`` string) was made of."""
    try:
        _, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest, validate=True)
        actual = _scrypt(password, base64.b64decode(salt, validate=True), int(n), int(r), int(p))
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(actual, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024**2, dklen=_HASH_BYTES
    )


def is_loopback(host: str) -> bool:
    """True for the hosts only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def require_access_for(host: str, web: WebSettings, source: str) -> None:
    """ConfigError (one line) when ``host`` is not loopback and no access is configured:
    an archive open to the network by accident is what this prevents."""
    if not is_loopback(host) and not web.has_access_control:
        raise ConfigError(
            f"{source}: refusing to serve on {host}: it is not a loopback address and "
            "[web] has no token or users (set [web] token or add [[web.users]]; "
            "see config/example.toml)"
        )


@dataclass(frozen=True)
class Credentials:
    """What a request offered: an Authorization header and a ``?token=`` value."""

    authorization: str | None = None
    query_token: str | None = None


class Gate:
    """Decides what a request may see: everything, only the feeds, or nothing."""

    def __init__(self, web: WebSettings, open_to_all: bool) -> None:
        """``open_to_all``: bound to loopback with no access configured, so every request
        comes from this machine and none needs credentials."""
        self._open = open_to_all
        self._token = _secret_bytes(web.token.get_secret_value()) if web.token else None
        self._feed_tokens = [_secret_bytes(t.get_secret_value()) for t in web.feed_tokens]
        self._users = {user.name: user.password_hash.get_secret_value() for user in web.users}
        self._key = secrets.token_bytes(32)
        self._verified: set[bytes] = set()

    @property
    def open(self) -> bool:
        return self._open

    def grant(self, offered: Credentials) -> Grant | None:
        """What ``offered`` opens: everything ("all"), the feeds only, or nothing (None)."""
        if self._open:
            return "all"
        if offered.authorization and self._authorized(offered.authorization):
            return "all"
        if offered.query_token is not None:
            given = _secret_bytes(offered.query_token)
            if self._token is not None and hmac.compare_digest(given, self._token):
                return "all"
            # Every token is compared, so the time taken does not tell which one matched.
            matched = [hmac.compare_digest(given, token) for token in self._feed_tokens]
            if any(matched):
                return "feeds"
        return None

    def _authorized(self, header: str) -> bool:
        scheme, _, value = header.strip().partition(" ")
        scheme = scheme.lower()
        if scheme == "bearer":
            return self._token_matches(value.strip())
        if scheme != "basic":
            return False
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return False
        name, colon, password = decoded.partition(":")
        if not colon:
            return False
        if self._token_matches(password):
            return True  # the token as a password, under any name: browsers can send it
        return self._user_matches(name, password)

    def _token_matches(self, given: str) -> bool:
        return self._token is not None and hmac.compare_digest(_secret_bytes(given), self._token)

    def _user_matches(self, name: str, password: str) -> bool:
        stored = self._users.get(name)
        if stored is None:
            return False
        mark = hmac.new(self._key, f"{name}\0{password}".encode(), hashlib.sha256).digest()
        if mark in self._verified:
            return True
        if not verify_password(password, stored):
            return False
        self._verified.add(mark)
        return True


def _secret_bytes(value: str) -> bytes:
    """A token as bytes for compare_digest, which wants equal types (and ASCII for str)."""
    return value.encode("utf-8")
