"""One exception tree for Newsmonitor; third-party errors are translated at the edge.

::

    MonitorError
    ├── ConfigError            bad config file, key or environment value (names file and key)
    ├── FetchError             a URL could not be fetched (names the URL)
    │   ├── BlockedAddressError    host resolves to a private/loopback address not allowed
    │   ├── ResponseTooLargeError  body exceeded the byte cap (also after decompression)
    │   ├── DeadlineExceededError  the wall-clock deadline for the request ran out
    │   ├── TooManyRedirectsError  redirect chain longer than allowed
    │   └── HTTPStatusError        final response had an error status (4xx/5xx)
    ├── FeedParseError         fetched bytes are not a usable feed (no entries and bozo)
    ├── ExtractError           article HTML yielded no text
    ├── WorkerError            a worker process died running a job (redone next check)
    ├── StoreError             the database refused or failed an operation
    │   ├── ConflictError          another process changed the row first: a lost race
    │   ├── StoreBusyError         a lock wait or statement outlasted its timeout
    │   └── ReadOnlyStoreError     the store can be read but not written
    ├── RunLockedError         another `check` holds the store's run lease
    ├── CompareError           the versions asked for cannot be compared (none, no seed)
    └── DeliveryError          an alert channel could not deliver (alerts/base.py)
"""

from __future__ import annotations


class MonitorError(Exception):
    """Base of every error Newsmonitor raises on purpose."""


class ConfigError(MonitorError):
    """The configuration is invalid; the message names the file and key path."""


class FetchError(MonitorError):
    """A URL could not be fetched."""

    def __init__(self, url: str, message: str) -> None:
        super().__init__(f"{url}: {message}")
        self.url = url
        self.reason = message


class BlockedAddressError(FetchError):
    """The URL's host resolves to a private, loopback or otherwise non-public address."""


class ResponseTooLargeError(FetchError):
    """The response body exceeded the configured byte cap."""


class DeadlineExceededError(FetchError):
    """The request did not complete within its wall-clock deadline."""


class TooManyRedirectsError(FetchError):
    """The redirect chain was longer than allowed."""


class HTTPStatusError(FetchError):
    """The final response had an error status code."""

    def __init__(self, url: str, status: int, retry_after: float | None = None) -> None:
        super().__init__(url, f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


class FeedParseError(MonitorError):
    """The fetched bytes are not a feed we can use."""


class ExtractError(MonitorError):
    """No article text could be extracted from a page."""


class WorkerError(MonitorError):
    """A worker process died while running a job (the job is redone on the next check)."""


class StoreError(MonitorError):
    """The store failed an operation."""


class ConflictError(StoreError):
    """Another process recorded the same thing first. A lost race is normal: skip it."""


class StoreBusyError(StoreError):
    """A lock held elsewhere, or a slow statement, outlasted its timeout: retry later."""


class ReadOnlyStoreError(StoreError):
    """The store cannot be written (a read-only file, mount or database)."""


class RunLockedError(MonitorError):
    """Another run holds the lease on this store."""


class CompareError(MonitorError):
    """The requested versions cannot be compared (missing version, no seed, ...)."""
