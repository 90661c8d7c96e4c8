"""Pure: a change -> the versioned JSON event every channel sends, and its mail renderings.

The event document (``PAYLOAD_VERSION`` 1; a new key is not a new version, a renamed or
removed one is)::

    {
      "version": 1,
      "type": "article.changed",        # article.new|changed|reverted|removed|restored|moved
      "id": "evt_3f1c...",              # event_id_for(change, channel): stable, dedupe on it
      "time": "2026-11-28T12:00:00Z",   # when the alert was created (UTC)
      "feed": "world",
      "article": {"id": 12, "url": "https://...", "title": "Headline"},
      "change": {"id": 57, "detected_at": "2026-11-28T11:59:58Z"},
      "versions": {"previous": 1, "current": 2, "reverted_to": null},
      "significance": "major",          # changed and reverted only, else null
      "tags": ["headline", "numbers"],
      "stats": {"words_added": 12, ...},  # DiffStats, or null
      "seed": {"id": "000_c68...", "drift": {...}},  # only for articles linked to a seed
      "detail": "moved to https://...",  # or null
      "diff": {"text": "...", "html": "<table ...>"}  # when a diff exists; HTML has no links
      "page": "https://monitor.example.org/articles/12?from=1&to=2#diff"  # with [web] base_url
      "test": true                       # only in a sample sent by `newsmonitor alerts test`
    }

A digest wraps events: ``{"version": 1, "type": "digest", "id": "dig_...", "time": ...,
"events": [...]}``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from monitor.models import AlertMessage, Change, DiffDocument
from monitor.render.html import ARTICLE_TEXT, FONT, WRAP, esc, link_html, render_html, web_url
from monitor.render.text import one_line, render_text
from monitor.serialize import change_to_json, format_timestamp

PAYLOAD_VERSION = 1
DIGEST_TYPE = "digest"
TEST_KEY = "test"  # true in a sample event; its subject starts with "[test]"
SUBJECT_LIMIT = 150  # characters; longer headlines are cut with an ellipsis
_RULE = "-" * 72

# Styles of the mail around each event's diff; the diff fragment brings its own.
_EVENT_HEAD = f"margin:18px 0 6px 0;{FONT}"
_BADGE = (
    "display:inline-block;padding:1px 6px;border-radius:3px;font-size:12px;"
    "font-weight:bold;color:#ffffff;background-color:{color};"
)
_LINE = "margin:0 0 4px 0;font-size:13px;color:#555555;"
_TITLE = "margin:0 0 4px 0;font-size:17px;font-weight:bold;"
_FOOTER = "margin:24px 0 0 0;font-size:12px;color:#666666;"
_KIND_COLORS = {
    "new": "#15803d",
    "changed": "#b45309",
    "reverted": "#1d4ed8",
    "removed": "#b91c1c",
    "restored": "#0e7490",
    "moved": "#7e22ce",
}


def event_type(change: Change) -> str:
    """``article.<kind>``: the event type receivers dispatch on."""
    return f"article.{change.kind}"


def event_id_for(change: Change, channel: str) -> str:
    """``evt_`` + 24 hex digits of sha256("<change id>:<detected at>:<channel>").

    Deterministic, so the same change sent to the same channel keeps its id across
    retries and restarts, and receivers can deduplicate on it. The detection time is part
    of it so that a store started afresh (ids counting from 1 again) never reuses an id.
    """
    key = f"{change.id}:{change.detected_at.isoformat()}:{channel}"
    return "evt_" + hashlib.sha256(key.encode()).hexdigest()[:24]


def digest_id(event_ids: Iterable[str]) -> str:
    """``dig_`` + a hash of the gathered event ids: the same batch keeps the same id."""
    digest = hashlib.sha256("\n".join(sorted(event_ids)).encode()).hexdigest()
    return "dig_" + digest[:24]


def change_path(change: Change) -> str:
    """The path of the web page that shows ``change`` (monitor/web/): its diff on the
    article's page when it has one, else the article's page."""
    if change.version is not None and change.previous_version is not None:
        return (
            f"/articles/{change.article_id}?from={change.previous_version}&to={change.version}#diff"
        )
    return f"/articles/{change.article_id}"


def change_page_url(base_url: str | None, change: Change) -> str | None:
    """The absolute URL of ``change``'s page when the site's address is configured
    (``[web] base_url``), else None: an alert cannot guess where the site is reached."""
    return base_url.rstrip("/") + change_path(change) if base_url else None


def build_event(
    change: Change,
    event_id: str,
    document: DiffDocument | None,
    created_at: datetime,
    page_url: str | None = None,
) -> dict[str, Any]:
    """The event document of ``change`` (schema in this module's docstring); ``page_url``
    is the change's web page (``change_page_url``), carried when given.

    The values are ``check --json``'s (``serialize.change_to_json``), grouped for receivers.
    """
    values = change_to_json(change)
    event: dict[str, Any] = {
        "version": PAYLOAD_VERSION,
        "type": event_type(change),
        "id": event_id,
        "time": format_timestamp(created_at),
        "feed": values["feed"],
        "article": {"id": values["article_id"], "url": values["url"], "title": values["title"]},
        "change": {"id": values["id"], "detected_at": values["detected_at"]},
        "versions": {
            "previous": values["previous_version"],
            "current": values["version"],
            "reverted_to": values["reverted_to"],
        },
        **{key: values[key] for key in ("significance", "tags", "stats", "detail")},
    }
    if change.seed_id is not None or change.drift is not None:
        seed_id = change.seed_id or (change.drift.seed_id if change.drift else None)
        event["seed"] = {"id": seed_id, "drift": values["drift"]}
    if document is not None:
        event["diff"] = {
            "text": render_text(document),
            "html": render_html(document, full_document=False, links=False),
        }
    if page_url is not None:
        event["page"] = page_url
    return event


def message_document(message: AlertMessage) -> Mapping[str, Any]:
    """What a webhook posts: the event itself, or a digest document around several."""
    if message.event_type != DIGEST_TYPE and len(message.events) == 1:
        return message.events[0]
    return {
        "version": PAYLOAD_VERSION,
        "type": DIGEST_TYPE,
        "id": message.event_id,
        "time": format_timestamp(message.created_at),
        "events": list(message.events),
    }


def subject(events: Sequence[Mapping[str, Any]]) -> str:
    """ "[major] world: Headline" for one event ("[test] [major] ..." for a sample),
    "Newsmonitor digest: 5 changes" for more."""
    if len(events) != 1:
        return f"Newsmonitor digest: {len(events)} changes"
    event = events[0]
    line = f"[{_label(event)}] {event.get('feed', '')}: {_headline(event)}"
    if event.get(TEST_KEY) is True:
        line = "[test] " + line
    line = one_line(line)
    return line if len(line) <= SUBJECT_LIMIT else line[: SUBJECT_LIMIT - 1] + "…"


def text_body(message: AlertMessage) -> str:
    """The plain-text mail body: per event a header, then its text diff when it has one."""
    blocks = []
    if len(message.events) != 1:
        blocks.append(subject(message.events))
    for event in message.events:
        lines = summary_lines(event)
        diff_text = _mapping(event.get("diff")).get("text")
        if isinstance(diff_text, str) and diff_text:
            # The diff's own header names the article, its feed, versions and verdict.
            extra = [line for line in lines if line.startswith(("Detail: ", "Seed: ", "Page: "))]
            lines = [diff_text.rstrip("\n"), *(["", *extra] if extra else [])]
        blocks.append("\n".join(lines))
    blocks.append(f"-- \nNewsmonitor, {message.event_type} {message.event_id}")
    return f"\n{_RULE}\n".join(blocks) + "\n"


def html_body(message: AlertMessage) -> str:
    """A whole HTML mail: inline styles only, every value escaped; the one kind of link is
    each event's article, and only when its URL is http(s)."""
    parts = []
    if len(message.events) != 1:
        parts.append(f'<p style="{_TITLE}">{esc(subject(message.events))}</p>')
    for event in message.events:
        parts.append(_event_html(event))
    parts.append(
        f'<p style="{_FOOTER}">Newsmonitor &middot; {esc(message.event_type)} '
        f"{esc(message.event_id)}</p>"
    )
    title = esc(subject(message.events))
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title></head>"
        f'<body style="margin:0;padding:12px;background-color:#ffffff;{WRAP}{FONT}">'
        + "".join(parts)
        + "</body></html>\n"
    )


def summary_lines(event: Mapping[str, Any]) -> list[str]:
    """A few plain lines that say what happened to which article, for chat-like channels."""
    article = _mapping(event.get("article"))
    lines = [f"[{_label(event)}] {one_line(_headline(event))}"]
    lines.append("URL: " + one_line(str(article.get("url") or "")))
    lines.append("Feed: " + one_line(str(event.get("feed") or "")))
    versions = _mapping(event.get("versions"))
    if versions.get("previous") is not None and versions.get("current") is not None:
        lines.append(f"Versions: v{versions['previous']} -> v{versions['current']}")
    elif versions.get("current") is not None:
        lines.append(f"Version: v{versions['current']}")
    if event.get("tags"):
        lines.append("Tags: " + one_line(", ".join(str(tag) for tag in event["tags"])))
    if event.get("detail"):
        lines.append("Detail: " + one_line(str(event["detail"])))
    seed = _mapping(event.get("seed"))
    if seed:
        line = "Seed: " + one_line(str(seed.get("id")))
        drift = _mapping(seed.get("drift"))
        if "similarity" in drift:
            line += f" (similarity {float(drift['similarity']):.2f})"
        lines.append(line)
    if event.get("page"):
        lines.append("Page: " + one_line(str(event["page"])))
    return lines


def _event_html(event: Mapping[str, Any]) -> str:
    kind = str(event.get("type", "")).removeprefix("article.")
    badge = _BADGE.format(color=_KIND_COLORS.get(kind, "#374151"))
    head = [f'<span style="{badge}">{esc(_label(event).upper())}</span>']
    url = str(_mapping(event.get("article")).get("url") or "")
    diff = _mapping(event.get("diff"))
    html_diff = diff.get("html")
    lines = [line for line in summary_lines(event)[1:] if not line.startswith("Tags: ")]
    if isinstance(html_diff, str) and html_diff:
        # The diff fragment already shows the headline, URL, verdict and counts.
        lines = [line for line in lines if line.startswith(("Detail: ", "Seed: "))]
        body = html_diff
    else:
        head.append(f' <span {ARTICLE_TEXT} style="{_TITLE}">{esc(_headline(event))}</span>')
        body = ""
    lines = [line for line in lines if not line.startswith("Page: ")]  # a link, below
    # The diff fragment travels in webhooks too and shows the URL as text: the link that
    # opens the article is the mail's own (issue 14).
    if web_url(url):
        head.append(f" &middot; {link_html(url, 'open the article')}")
    page = str(event.get("page") or "")
    if web_url(page):
        head.append(f" &middot; {link_html(page, 'see the change in Newsmonitor')}")
    meta = "".join(f'<p style="{_LINE}">{esc(line)}</p>' for line in lines)
    return f'<div style="{_EVENT_HEAD}"><p style="{_LINE}">{"".join(head)}</p>{meta}</div>' + body


def _label(event: Mapping[str, Any]) -> str:
    kind = str(event.get("type", "")).removeprefix("article.")
    if kind == "changed" and event.get("significance"):
        return str(event["significance"])
    return kind or "event"


def _headline(event: Mapping[str, Any]) -> str:
    article = _mapping(event.get("article"))
    return str(article.get("title") or article.get("url") or "(untitled)")


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
