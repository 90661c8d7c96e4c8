"""The config file's writer: ``[[feeds]]`` tables added or removed in place, its comments and
layout kept (tomlkit), the result validated like any config before it is written (issue 19).

The file is replaced atomically (a temporary file beside it, then a rename), so a crash or a
full disk leaves the old file whole.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from monitor.config import FeedConfig, Settings, settings_from_dict
from monitor.errors import ConfigError

__all__ = ["add_feeds", "feed_name", "remove_feed"]

_NOT_NAME = re.compile(r"[^a-z0-9]+")
MAX_NAME = 40


def feed_name(title: str, url: str, taken: Iterable[str]) -> str:
    """A short unused name for a feed: its title (or host) in lower case, words joined by
    hyphens, ``-2``, ``-3`` … when taken."""
    base = _NOT_NAME.sub("-", title.lower()).strip("-")[:MAX_NAME].strip("-")
    if not base:
        host = (urlsplit(url).hostname or "feed").removeprefix("www.")
        base = _NOT_NAME.sub("-", host.lower()).strip("-") or "feed"
    used = set(taken)
    name, number = base, 2
    while name in used:
        name, number = f"{base}-{number}", number + 1
    return name


def add_feeds(path: Path, tables: Iterable[Mapping[str, Any]]) -> Settings:
    """Append ``[[feeds]]`` tables to the config file at ``path``; the validated settings.

    A feed whose URL is already watched is a ``ConfigError`` naming the feed that has it.
    """
    document = _read(path)
    feeds = _feeds_array(document)
    watched = {str(feed.get("url")): str(feed.get("name")) for feed in feeds}
    for table in tables:
        url = str(table["url"])
        if url in watched:
            raise ConfigError(f"{path}: {url} is already watched, as feed {watched[url]!r}")
        watched[url] = str(table["name"])
        feeds.append(_feed_table(table))
    return _write_validated(path, document)


def remove_feed(path: Path, name: str) -> Settings:
    """Remove the feed called ``name`` from the config file at ``path``; the settings left.

    The feed's stored versions stay in the store: only its watching ends.
    """
    document = _read(path)
    feeds = _feeds_array(document)
    names = [str(feed.get("name")) for feed in feeds]
    if name not in names:
        known = ", ".join(names) or "none"
        raise ConfigError(f"{path}: no feed named {name!r} (feeds: {known})")
    del feeds[names.index(name)]
    if not feeds:
        del document["feeds"]
    return _write_validated(path, document)


def _read(path: Path) -> Any:
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc}") from exc
    try:
        return tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc


def _feeds_array(document: Any) -> Any:
    import tomlkit
    from tomlkit.items import AoT

    if "feeds" not in document:
        document.append("feeds", tomlkit.aot())
    feeds = document["feeds"]
    if not isinstance(feeds, AoT):
        raise ConfigError(
            "feeds: written as an inline array; give each feed its own [[feeds]] table "
            "to edit the file with `newsmonitor feeds`"
        )
    return feeds


def _feed_table(values: Mapping[str, Any]) -> Any:
    """A ``[[feeds]]`` table of the non-default ``values``, in FeedConfig's field order."""
    import tomlkit

    table = tomlkit.table()
    defaults = FeedConfig(name="x", url="https://example.invalid/").model_dump()
    for field in FeedConfig.model_fields:
        value = values.get(field)
        if value is None or (field not in ("name", "url") and value == defaults.get(field)):
            continue
        table.add(field, list(value) if isinstance(value, tuple) else value)
    return table


def _write_validated(path: Path, document: Any) -> Settings:
    """Validate ``document`` as the config it will be, then write it in place of ``path``."""
    import tomlkit

    text = tomlkit.dumps(document)
    settings = settings_from_dict(document.unwrap(), source=path)
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write(text)
            os.chmod(temporary, path.stat().st_mode & 0o777)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write config file: {exc.strerror or exc}") from exc
    return settings
