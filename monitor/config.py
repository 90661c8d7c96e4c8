"""The only reader of config files and environment: TOML -> frozen, validated ``Settings``.

Errors name the file, the key path and what is wrong (``ConfigError``); relative paths in
the file resolve against the file's own directory, so a config works from any cwd.
"""

from __future__ import annotations

import base64
import itertools
import os
import re
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from monitor.errors import ConfigError
from monitor.models import Thresholds

DEFAULT_CONFIG = Path("config/monitor.toml")
CONFIG_ENV = "NEWSMONITOR_CONFIG"
DEFAULT_USER_AGENT = "Newsmonitor/0.1 (change-tracking news monitor)"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}
_ENV_REF = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def parse_duration(value: object) -> timedelta:
    """``"15m"``, ``"1.5h"``, ``"7d"``, ``90`` (seconds) -> timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected a duration like '15m' or seconds, got {value!r}")
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"invalid duration {value!r}: use a number with s, m, h, d or w")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def format_duration(duration: timedelta) -> str:
    """A duration as the config writes it (``parse_duration``'s inverse): 15m, 1h, 2d, 90s."""
    seconds = int(duration.total_seconds())
    for unit in ("d", "h", "m"):
        if seconds and seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _check_patterns(patterns: tuple[str, ...]) -> tuple[str, ...]:
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from exc
    return patterns


def _positive(duration: timedelta, message: str) -> timedelta:
    """``duration`` if it is longer than zero; ``ValueError(message)`` otherwise."""
    if duration <= timedelta(0):
        raise ValueError(message)
    return duration


class ClassifyRules(_Model):
    """Thresholds that turn a diff into a significance; see config/example.toml."""

    typo_chars: int = Field(default=3, ge=0)  # a change this small inside one word is a typo fix
    major_words: int = Field(default=40, ge=1)  # words added + removed for "major"
    major_ratio: float = Field(default=0.15, gt=0, le=1)  # or this share of the text changed
    rewrite_similarity: float = Field(default=0.4, ge=0, lt=1)  # below: "rewrite"
    deletion_words: int = Field(default=25, ge=1)  # net words removed for the "deletion" tag
    late_after: Duration = timedelta(hours=24)  # edits this long after publication: "late"
    alert_significance: Literal["cosmetic", "minor", "major", "rewrite"] = "minor"
    diff_timeout: float = Field(default=2.0, gt=0)  # seconds; a slower diff is a "rewrite"

    def thresholds(self) -> Thresholds:
        """These rules as the classifier takes them (a worker process needs no pydantic)."""
        # Every rule but the alert threshold, which routing reads (a test holds the fields
        # of the two equal).
        return Thresholds(**self.model_dump(exclude={"alert_significance"}))


class FeedConfig(_Model):
    """One monitored feed."""

    name: str = Field(min_length=1)
    url: str
    # "sitemap": `url` is a (news) sitemap or sitemap index, read instead of RSS/Atom.
    type: Literal["feed", "sitemap"] = "feed"
    interval: Duration = timedelta(minutes=15)
    fetch_articles: bool = True
    ignore: tuple[str, ...] = ()
    classify: dict[str, Any] = Field(default_factory=dict)  # overrides of [classify] keys
    cron: str | None = None  # the daemon's schedule instead of `interval`, e.g. "*/10 * * * *"
    # Links found in this feed may point at private/loopback addresses (an intranet feed).
    allow_private_links: bool = False
    # Labels for the user's own grouping (an OPML list's categories); `feeds export --opml`
    # writes them back.
    tags: tuple[str, ...] = ()

    @field_validator("cron")
    @classmethod
    def _crontab(cls, cron: str | None) -> str | None:
        if cron is not None:
            from apscheduler.triggers.cron import CronTrigger

            try:
                CronTrigger.from_crontab(cron)
            except ValueError as exc:
                raise ValueError(f"invalid cron expression {cron!r}: {exc}") from exc
        return cron

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not re.match(r"^https?://[^/\s]+", url):
            raise ValueError(f"not an http(s) URL: {url!r}")
        return url

    @field_validator("ignore")
    @classmethod
    def _patterns(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        return _check_patterns(patterns)

    @field_validator("interval")
    @classmethod
    def _min_interval(cls, interval: timedelta) -> timedelta:
        if interval < timedelta(seconds=1):
            raise ValueError("must be at least 1s")
        return interval


class FetchSettings(_Model):
    """How we fetch: identity, limits and politeness."""

    user_agent: str = DEFAULT_USER_AGENT
    timeout: float = Field(default=20.0, gt=0)  # per connect/read/write operation, seconds
    deadline: float = Field(default=60.0, gt=0)  # wall clock for a whole request, seconds
    max_bytes: int = Field(default=10 * 1024 * 1024, gt=0)  # after decompression
    max_redirects: int = Field(default=5, ge=0)
    retries: int = Field(default=2, ge=0)  # extra attempts on connect errors, 5xx, 429
    backoff: float = Field(default=1.0, ge=0)  # first retry delay, doubled each time, seconds
    max_retry_after: float = Field(default=30.0, ge=0)  # longest Retry-After we wait, seconds
    # Requests in flight at once, and to one host: 128 keeps 64 hosts' two slots busy, so a
    # round over many hosts with real latency is bound by each host's share (issue 16).
    concurrency: int = Field(default=128, ge=1)
    per_host_concurrency: int = Field(default=2, ge=1)
    allow_private_addresses: bool = False
    # The HTTP stack under Fetcher (fetch.py): native, our own HTTP/1.1 client, costs half
    # aiohttp's CPU per request, and httpx's a seventh (bench/RESULTS.md).
    client: Literal["native", "aiohttp", "httpx"] = "native"


class CheckStep(_Model):
    """Re-check an article every ``every`` until it is ``until`` old."""

    until: Duration
    every: Duration


_DEFAULT_SCHEDULE = (
    CheckStep(until=timedelta(hours=3), every=timedelta(minutes=15)),
    CheckStep(until=timedelta(days=1), every=timedelta(hours=1)),
    CheckStep(until=timedelta(days=7), every=timedelta(hours=6)),
)


class TrackingSettings(_Model):
    """How long and how often articles are re-checked after they are first seen."""

    schedule: tuple[CheckStep, ...] = _DEFAULT_SCHEDULE
    max_articles_per_run: int = Field(default=500, ge=0)
    # A suspect fetch (a challenge or block page, a collapsed text) becomes a version only
    # when a fetch at least this much later shows the same: a CDN challenge lasts seconds.
    confirm_suspect_after: Duration = timedelta(minutes=15)

    @field_validator("schedule")
    @classmethod
    def _ascending(cls, steps: tuple[CheckStep, ...]) -> tuple[CheckStep, ...]:
        for earlier, later in itertools.pairwise(steps):
            if later.until <= earlier.until:
                raise ValueError("steps must have increasing 'until'")
        return steps


class ExtractSettings(_Model):
    """Where article text is extracted: a big run spreads it over worker processes."""

    workers: int = Field(default=0, ge=0)  # 0: one per CPU core; 1: no worker processes


class StorageSettings(_Model):
    """Where the store is, and how long one of its operations may wait."""

    url: str = "sqlite:///snapshots/monitor.db"
    # Longest wait for a lock another process or node holds (SQLite's busy timeout,
    # PostgreSQL's lock_timeout); the work is then retried on the next run.
    lock_timeout: Duration = timedelta(seconds=10)
    # PostgreSQL: the longest any one statement may run.
    statement_timeout: Duration = timedelta(minutes=2)

    @field_validator("lock_timeout", "statement_timeout")
    @classmethod
    def _positive_timeouts(cls, value: timedelta) -> timedelta:
        return _positive(value, "must be more than 0 seconds")


class SeedSettings(_Model):
    """Where seed baselines live, and how often a seed's own `url` is checked."""

    dir: str = "seeds"
    # A seed with a `url` and no `feeds` is watched directly, like a single-page monitor.
    interval: Duration = timedelta(hours=1)


SignificanceName = Literal["cosmetic", "minor", "major", "rewrite"]
ChangeKindName = Literal["new", "changed", "reverted", "removed", "restored", "moved"]
# New articles are left out by default: a busy feed publishes dozens a day, and what a
# change monitor is for is what happens to an article after it is published.
DEFAULT_ALERT_KINDS: tuple[ChangeKindName, ...] = (
    "changed",
    "reverted",
    "removed",
    "restored",
    "moved",
)
FLIP_FLOP_TAG = "flip-flop"  # the pipeline's tag on the second and later reverts (never alerted)
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an RFC 9110 token
# Headers the webhook channel writes itself; a config table may not replace them.
_RESERVED_HEADERS = frozenset(
    (
        "content-type",
        "content-length",
        "host",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "transfer-encoding",
        "connection",
    )
)


class _AlertChannelBase(_Model):
    """Keys every [[alerts]] table has: which changes reach the channel, and how."""

    name: str = Field(min_length=1)
    feeds: tuple[str, ...] = ()  # only changes of these feeds (empty: every feed)
    seeds: tuple[str, ...] = ()  # only articles linked to one of these seeds (empty: any)
    kinds: tuple[ChangeKindName, ...] = DEFAULT_ALERT_KINDS
    min_significance: SignificanceName | None = None  # None: [classify].alert_significance
    digest: Duration | None = None  # gather alerts and send one message per period
    max_attempts: int = Field(default=10, ge=1)  # delivery attempts before giving up
    max_age: Duration = timedelta(days=2)  # an alert older than this is not sent any more

    @field_validator("digest")
    @classmethod
    def _min_digest(cls, digest: timedelta | None) -> timedelta | None:
        if digest is not None and digest < timedelta(minutes=1):
            raise ValueError("must be at least 1m")
        return digest

    @field_validator("max_age")
    @classmethod
    def _positive_age(cls, max_age: timedelta) -> timedelta:
        return _positive(max_age, "must be longer than 0s")


class WebhookConfig(_AlertChannelBase):
    """[[alerts]] type = "webhook": signed JSON POSTs (Standard Webhooks headers)."""

    type: Literal["webhook"]
    # The URL is kept out of reprs: hook URLs often carry a token in their path.
    url: str = Field(repr=False)
    secret: SecretStr  # "whsec_<base64>" (the key is the decoded bytes) or any string
    headers: dict[str, str] = Field(default_factory=dict, repr=False)  # may hold tokens
    timeout: float = Field(default=10.0, gt=0)  # seconds per connect/read/write

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        # The message never repeats the value: it may contain a token.
        if not re.match(r"^https?://[^/\s?#]+(?:[/?#]\S*)?$", url):
            raise ValueError("must be an http:// or https:// URL")
        return url

    @field_validator("secret")
    @classmethod
    def _usable_secret(cls, secret: SecretStr) -> SecretStr:
        value = secret.get_secret_value()
        if not value:
            raise ValueError("must not be empty")
        if value.startswith(WHSEC_PREFIX):
            try:
                key = base64.b64decode(value.removeprefix(WHSEC_PREFIX), validate=True)
            except ValueError:
                raise ValueError("a 'whsec_' secret must be followed by base64") from None
            if not key:
                raise ValueError("a 'whsec_' secret must be followed by base64")
        return secret

    @field_validator("headers")
    @classmethod
    def _valid_headers(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            if not _HEADER_NAME.match(name):
                raise ValueError(f"invalid header name {name!r}")
            if name.lower() in _RESERVED_HEADERS:
                raise ValueError(f"header {name!r} is set by Newsmonitor itself")
            if any(char in value for char in "\r\n\0"):
                raise ValueError(f"header {name!r}: line breaks are not allowed in a value")
        return headers


class EmailConfig(_AlertChannelBase):
    """[[alerts]] type = "email": text + HTML mail over SMTP."""

    type: Literal["email"]
    host: str = Field(min_length=1)
    port: int = Field(default=0, ge=0, le=65535)  # 0: 25, 587 or 465 by ``security``
    security: Literal["plain", "starttls", "tls"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    sender: str
    recipients: tuple[str, ...]
    timeout: float = Field(default=30.0, gt=0)  # seconds per SMTP operation

    @field_validator("sender")
    @classmethod
    def _sender_address(cls, sender: str) -> str:
        return _check_address(sender)

    @field_validator("recipients")
    @classmethod
    def _recipient_addresses(cls, recipients: tuple[str, ...]) -> tuple[str, ...]:
        if not recipients:
            raise ValueError("needs at least one address")
        for address in recipients:
            _check_address(address)
        return recipients

    @model_validator(mode="after")
    def _login_pair(self) -> EmailConfig:
        if (self.username is None) != (self.password is None):
            raise ValueError("set both 'username' and 'password', or neither")
        return self

    @property
    def smtp_port(self) -> int:
        """The configured port, or the usual one for the security mode."""
        return self.port or {"plain": 25, "starttls": 587, "tls": 465}[self.security]


class AppriseConfig(_AlertChannelBase):
    """[[alerts]] type = "apprise": any service Apprise knows (needs newsmonitor[apprise])."""

    type: Literal["apprise"]
    urls: tuple[SecretStr, ...]  # apprise URLs carry tokens

    @field_validator("urls")
    @classmethod
    def _some_urls(cls, urls: tuple[SecretStr, ...]) -> tuple[SecretStr, ...]:
        if not urls:
            raise ValueError("needs at least one apprise URL")
        return urls


ALERT_CHANNEL_TYPES = ("webhook", "email", "apprise")
WHSEC_PREFIX = "whsec_"


def _channel_errors(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """Validate one [[alerts]] table, with errors that name its keys and nothing else.

    A discriminated union puts the type's tag into every error location
    (``alerts[0].webhook.url``) and words a bad type in pydantic's terms; here an unknown
    type names the known ones and locations lose the tag, so errors read ``alerts[0].url``.
    """
    if not isinstance(value, Mapping):
        return handler(value)
    given = value.get("type")
    if given not in ALERT_CHANNEL_TYPES:
        problem = "missing" if given is None else f"unknown type {given!r}"
        raise ValidationError.from_exception_data(
            "AlertChannelConfig",
            [
                InitErrorDetails(
                    type=PydanticCustomError(
                        "alert_channel_type",
                        "{problem}: use one of {known}",
                        {"problem": problem, "known": ", ".join(ALERT_CHANNEL_TYPES)},
                    ),
                    loc=("type",),
                    input=given,
                )
            ],
        )
    try:
        return handler(value)
    except ValidationError as exc:
        details = [
            InitErrorDetails(
                # The message goes in as context, never as the template: it may hold braces.
                type=PydanticCustomError(error["type"], "{message}", {"message": error["msg"]}),
                loc=error["loc"][1:] if error["loc"][:1] == (given,) else error["loc"],
                input=error["input"],
            )
            for error in exc.errors()
        ]
        raise ValidationError.from_exception_data(exc.title, details) from None


_NamedT = TypeVar("_NamedT", bound=FeedConfig | _AlertChannelBase)  # a table with a name
AlertChannelConfig = Annotated[
    Annotated[WebhookConfig | EmailConfig | AppriseConfig, Field(discriminator="type")],
    WrapValidator(_channel_errors),
]


def _check_address(address: str) -> str:
    """A mail address, optionally with a display name: "Desk <desk@example.org>"."""
    if any(char in address for char in "\r\n\0"):
        raise ValueError("line breaks are not allowed in a mail address")
    _, addr = parseaddr(address)
    local, at, domain = addr.rpartition("@")
    if not (at and local and domain and "." not in (domain[0], domain[-1])):
        raise ValueError(f"not a mail address: {address!r}")
    return address


def parse_listen_address(address: str) -> tuple[str, int]:
    """``"host:port"`` (``"[::1]:9464"`` for IPv6; port 0: any free one) as (host, port);
    ValueError naming what is wrong."""
    match = re.fullmatch(r"(?:\[([0-9A-Fa-f:.]+)\]|([^:\[\]\s]+)):(\d{1,5})", address)
    if not match or int(match[3]) > 65535:
        raise ValueError(f'must be "host:port", e.g. "127.0.0.1:9464", got {address!r}')
    return match[1] or match[2], int(match[3])


class DaemonSettings(_Model):
    """How `newsmonitor run` schedules its jobs and stops."""

    articles_every: Duration = timedelta(minutes=1)  # how often due articles are looked for
    relay_every: Duration = timedelta(seconds=15)  # how often the alert outbox is emptied
    jitter: Duration = timedelta(seconds=30)  # feed jobs drift by up to this (or interval/10)
    misfire_grace: Duration = timedelta(minutes=5)  # a job this late still runs (once)
    grace: Duration = timedelta(seconds=30)  # on SIGTERM, in-flight checks get this long
    # Several nodes on one store (issue 17): each heartbeats this often, renewing the
    # leases of the work it has claimed; a node that dies frees its claims when their
    # lease runs out, and shows as lost in `status` after three missed heartbeats.
    heartbeat: Duration = timedelta(seconds=15)
    claim_lease: Duration = timedelta(minutes=2)
    # "host:port" where /healthz and /metrics are served (monitor/health.py); unset: off.
    metrics: str | None = None

    @field_validator("metrics", mode="before")
    @classmethod
    def _metrics_address(cls, value: object) -> object:
        """TOML has no null: "" (the example's) leaves it off; else host:port."""
        if value == "" or value is None:
            return None
        if isinstance(value, str):
            parse_listen_address(value)
        return value

    @field_validator("heartbeat", "claim_lease")
    @classmethod
    def _positive_periods(cls, value: timedelta) -> timedelta:
        return _positive(value, "must be more than 0 seconds")

    @model_validator(mode="after")
    def _lease_outlives_heartbeats(self) -> DaemonSettings:
        if self.claim_lease < 2 * self.heartbeat:
            raise ValueError(
                "'claim_lease' must be at least twice 'heartbeat' (the heartbeat renews it)"
            )
        return self

    @property
    def lost_after(self) -> timedelta:
        """A node whose last heartbeat is older than this is lost (three missed)."""
        return 3 * self.heartbeat


class OutboxSettings(_Model):
    """How the alert outbox is emptied."""

    # `newsmonitor check` keeps delivering (and retrying) its alerts this long before it
    # exits; what is left stays queued for the next run or the daemon.
    check_wait: Duration = timedelta(seconds=10)
    # A relay owns the alerts it claimed this long; if it dies, another sends them after.
    lease: Duration = timedelta(minutes=5)


# Hosts `newsmonitor serve` may bind without configured access: only this machine reaches them.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
# "scrypt$<n>$<r>$<p>$<salt, base64>$<hash, base64>", as `newsmonitor serve --hash-password`
# prints it (issue 18).
_PASSWORD_HASH = re.compile(r"^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$")


class WebUser(_Model):
    """A person who may open the web pages: a name and a hashed password (never the password)."""

    name: str = Field(min_length=1, pattern=r"^[^:\s]+$")  # Basic auth splits at the first ':'
    password_hash: SecretStr

    @field_validator("password_hash")
    @classmethod
    def _hash_format(cls, value: SecretStr) -> SecretStr:
        if not _PASSWORD_HASH.match(value.get_secret_value()):
            raise ValueError(
                "not a password hash: make one with `newsmonitor serve --hash-password`"
            )
        return value


class WebSettings(_Model):
    """`newsmonitor serve` (and `run --web`): where it listens and who may read it."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)  # 0: any free port
    # Absolute address of the site as readers reach it (behind a proxy, say), for the links
    # in feeds and alerts; unset: feeds use the address each request came to, alerts none.
    base_url: str | None = None
    # Opens every page, feed and API document (Authorization: Bearer, or as a Basic password).
    token: SecretStr | None = None
    # Open only the Atom and JSON feeds, given as ?token= (feed readers cannot send headers).
    feed_tokens: tuple[SecretStr, ...] = ()
    users: tuple[WebUser, ...] = ()
    page_size: int = Field(default=50, ge=1, le=500)  # changes per page and per feed

    @field_validator("base_url", "token", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """TOML has no null: an empty string (the example's) leaves the key unset."""
        return None if value == "" else value

    @field_validator("base_url")
    @classmethod
    def _http_base(cls, url: str | None) -> str | None:
        if url is not None and not re.match(r"^https?://[^/\s]+", url):
            raise ValueError(f"base_url must be an absolute http(s) URL, got {url!r}")
        return url.rstrip("/") if url else url

    @property
    def has_access_control(self) -> bool:
        """Whether anything but loopback may be allowed in: a token or a user."""
        return self.token is not None or bool(self.users)


class Settings(_Model):
    """Everything a run needs, validated."""

    source: str = "<defaults>"  # the config file it came from
    feeds: tuple[FeedConfig, ...] = ()
    fetch: FetchSettings = FetchSettings()
    extract: ExtractSettings = ExtractSettings()
    tracking: TrackingSettings = TrackingSettings()
    storage: StorageSettings = StorageSettings()
    seeds: SeedSettings = SeedSettings()
    ignore: tuple[str, ...] = ()  # regexes removed from every article's text before hashing
    classify: ClassifyRules = ClassifyRules()
    alerts: tuple[AlertChannelConfig, ...] = ()
    outbox: OutboxSettings = OutboxSettings()
    daemon: DaemonSettings = DaemonSettings()
    web: WebSettings = WebSettings()

    @field_validator("ignore")
    @classmethod
    def _patterns(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        return _check_patterns(patterns)

    @model_validator(mode="after")
    def _feed_rules_valid(self) -> Settings:
        for index, feed in enumerate(self.feeds):
            try:
                ClassifyRules.model_validate({**self.classify.model_dump(), **feed.classify})
            except ValidationError as exc:
                # Re-raised with the feed's position so the message names the key path.
                error = exc.errors()[0]
                key = ".".join(str(part) for part in error["loc"])
                message = error["msg"].removeprefix("Value error, ")
                if error["type"] == "extra_forbidden":
                    message = "unknown key"
                raise ValueError(f"feeds[{index}].classify.{key}: {message}") from None
        return self

    def secret_values(self) -> list[str]:
        """Every configured value that must never be logged: secrets, passwords, tokens."""
        found: list[str] = []
        for channel in self.alerts:
            for value in vars(channel).values():
                values = value if isinstance(value, tuple) else (value,)
                found += [v.get_secret_value() for v in values if isinstance(v, SecretStr)]
            if isinstance(channel, WebhookConfig):
                found += [channel.url, *channel.headers.values()]
        web = self.web
        found += [v.get_secret_value() for v in (web.token, *web.feed_tokens) if v is not None]
        found += [user.password_hash.get_secret_value() for user in web.users]
        password = re.search(r"://[^/:@]+:([^@/]+)@", self.storage.url)
        if password:
            found.append(password.group(1))
        return [value for value in found if value]

    def rules(self, feed: str | None) -> ClassifyRules:
        """The classification rules for ``feed``: [classify] with the feed's overrides."""
        overrides = next((f.classify for f in self.feeds if f.name == feed), {})
        if not overrides:
            return self.classify
        return ClassifyRules.model_validate({**self.classify.model_dump(), **overrides})

    @model_validator(mode="after")
    def _unique_names(self) -> Settings:
        _require_unique("feed", [feed.name for feed in self.feeds])
        return self

    @model_validator(mode="after")
    def _alert_channels_consistent(self) -> Settings:
        _require_unique("alert channel", [channel.name for channel in self.alerts])
        feeds = {feed.name for feed in self.feeds}
        for index, channel in enumerate(self.alerts):
            unknown = [name for name in channel.feeds if name not in feeds]
            if unknown:
                raise ValueError(f"alerts[{index}].feeds: no feed named {unknown[0]!r}")
        return self

    def alert_channel(self, name: str) -> AlertChannelConfig:
        """The [[alerts]] table called ``name``; ConfigError listing the channels if none is."""
        return self._named(self.alerts, name, "alert channel", "channels")

    def feed(self, name: str) -> FeedConfig:
        """The [[feeds]] table called ``name``; ConfigError listing the feeds if none is."""
        return self._named(self.feeds, name, "feed", "feeds")

    def ignore_patterns(self, feed: str | None) -> tuple[str, ...]:
        """Global ignore patterns plus those of ``feed``."""
        extra = next((f.ignore for f in self.feeds if f.name == feed), ())
        return self.ignore + extra

    def _named(self, tables: tuple[_NamedT, ...], name: str, what: str, kinds: str) -> _NamedT:
        """The table of ``tables`` called ``name``; ConfigError listing their names if none is."""
        for table in tables:
            if table.name == name:
                return table
        known = ", ".join(table.name for table in tables) or "none configured"
        raise ConfigError(f"{self.source}: no {what} named {name!r} ({kinds}: {known})")


def _require_unique(what: str, names: list[str]) -> None:
    """ValueError naming every name of ``what`` that is given more than once."""
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValueError(f"{what} names must be unique: {', '.join(duplicated)}")


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The config file to use: ``explicit``, else $NEWSMONITOR_CONFIG, else the default."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(CONFIG_ENV)
    return Path(env) if env else DEFAULT_CONFIG


def load_settings(
    path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read, interpolate and validate a config file."""
    file = config_path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        hint = " (copy config/example.toml to start one)" if file == DEFAULT_CONFIG else ""
        raise ConfigError(f"{file}: config file not found{hint}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read config file: {exc}") from exc
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: invalid TOML: {exc}") from exc
    return settings_from_dict(raw, source=file, environ=environ)


def settings_from_dict(
    raw: Mapping[str, Any],
    source: str | os.PathLike[str] = "<dict>",
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Validate an already-parsed config mapping; relative paths resolve against
    ``source``'s directory."""
    env = os.environ if environ is None else environ
    data = _interpolate(dict(raw), env, source, ())
    base = Path(source).resolve().parent if Path(source).suffix else Path.cwd()
    try:
        settings = Settings.model_validate({**data, "source": str(source)})
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None
    return settings.model_copy(
        update={
            "storage": settings.storage.model_copy(
                update={"url": resolve_storage_url(settings.storage.url, base)}
            ),
            "seeds": settings.seeds.model_copy(
                update={"dir": os.path.normpath(base / settings.seeds.dir)}
            ),
        }
    )


def resolve_storage_url(url: str, base: Path) -> str:
    """Make a relative SQLite path absolute against ``base``; other URLs pass through."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        return prefix + os.path.normpath(base / url[len(prefix) :])
    return url


def _interpolate(value: Any, env: Mapping[str, str], source: object, path: tuple) -> Any:
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            if match.group(0) == "$$":
                return "$"
            name = match.group(1)
            if name not in env:
                raise ConfigError(
                    f"{source}: {_key_path(path)}: environment variable ${{{name}}} is not set"
                )
            return env[name]

        return _ENV_REF.sub(substitute, value)
    if isinstance(value, dict):
        return {k: _interpolate(v, env, source, (*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, env, source, (*path, i)) for i, v in enumerate(value)]
    return value


def _key_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _describe(exc: ValidationError, source: object) -> str:
    lines = []
    for error in exc.errors():
        loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and "[" in p))
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        # Whole-settings checks name their key path in the message itself.
        lines.append(f"{source}: {_key_path(loc)}: {message}" if loc else f"{source}: {message}")
    return "\n".join(lines)


def read_seed_text(seeds_dir: str | os.PathLike[str] = "seeds") -> str | None:
    """The first seed document's text, for the demo newsroom; None if there is none."""
    folder = Path(seeds_dir)
    files = sorted(folder.glob("*.txt")) + sorted(folder.glob("*.md")) if folder.is_dir() else []
    for file in files:
        try:
            return file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
    return None
