"""Feeds of changes: Atom 1.0 (RFC 4287) and JSON Feed 1.1, with the Changes page's filters.

Each entry's id is the change's event id (``urn:newsmonitor:evt_…``, as alert payloads
carry it: stable across requests and restarts), ``updated`` the detection time, and the
content the inline-styled word diff (rendered once per change and kept, ``Site``). A
``?token=`` is never written back into a feed's own links.
"""

from __future__ import annotations

import json
import re
from typing import Any
from xml.etree import ElementTree as ET

from aiohttp import web

from monitor.alerts.payload import event_id_for
from monitor.models import Change
from monitor.serialize import format_timestamp
from monitor.web.site import (
    Req,
    Site,
    change_summary,
    filter_query,
    outbound_url,
    page_of_changes,
    with_query,
)
from monitor.web.views import diff_link

ATOM_NS = "http://www.w3.org/2005/Atom"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
# The event ids' "channel": the web's own, so they never equal an alert channel's.
EVENT_CHANNEL = "web"
# Characters XML 1.0 cannot carry at all (controls, surrogates, U+FFFE/U+FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def entry_id(change: Change) -> str:
    return f"urn:newsmonitor:{event_id_for(change, EVENT_CHANNEL)}"


def _title(change: Change) -> str:
    return f"{change.kind}: {change.title or change.url}"


def _terms(change: Change) -> list[str]:
    """The kind, the significance (when classified) and the tags, as categories."""
    significance = [str(change.significance)] if change.significance else []
    return [str(change.kind), *significance, *change.tags]


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _feed_title(query: dict[str, str]) -> str:
    shown = ", ".join(f"{key} {value}" for key, value in query.items())
    return "Newsmonitor changes" + (f" ({shown})" if shown else "")


def atom_feed(site: Site, req: Req) -> web.Response:
    where, changes, _ = page_of_changes(site, req.query)
    query = filter_query(where)
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")

    def child(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            element.text = _xml_text(text)
        return element

    self_url = req.base + with_query("/changes.atom", query)
    child(feed, "id", self_url)
    child(feed, "title", _feed_title(query))
    newest = changes[0].detected_at if changes else site.clock()
    child(feed, "updated", format_timestamp(newest))
    author = child(feed, "author")
    child(author, "name", "Newsmonitor")
    child(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    child(feed, "link", rel="alternate", type="text/html", href=req.base + with_query("/", query))
    child(feed, "generator", "Newsmonitor")
    diffs = site.change_diffs(changes)
    for change in changes:
        entry = child(feed, "entry")
        child(entry, "id", entry_id(change))
        child(entry, "title", _title(change))
        child(entry, "updated", format_timestamp(change.detected_at))
        page = diff_link(change) or f"/articles/{change.article_id}"
        child(entry, "link", rel="alternate", type="text/html", href=req.base + page)
        article = outbound_url(change.url)
        if article:
            child(entry, "link", rel="related", type="text/html", href=article)
        for term in _terms(change):
            child(entry, "category", term=term)
        child(entry, "summary", change_summary(change) or str(change.kind))
        diff = diffs.get(change.id)
        if diff is not None:
            child(entry, "content", str(diff), type="html")
    body = ET.tostring(feed, encoding="unicode", xml_declaration=False)
    return web.Response(
        text='<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n",
        content_type="application/atom+xml",
        charset="utf-8",
    )


def json_feed(site: Site, req: Req) -> web.Response:
    where, changes, _ = page_of_changes(site, req.query)
    query = filter_query(where)
    items: list[dict[str, Any]] = []
    diffs = site.change_diffs(changes)
    for change in changes:
        page = diff_link(change) or f"/articles/{change.article_id}"
        item: dict[str, Any] = {
            "id": entry_id(change),
            "url": req.base + page,
            "title": _title(change),
            "summary": change_summary(change) or str(change.kind),
            "date_published": format_timestamp(change.detected_at),
            "date_modified": format_timestamp(change.detected_at),
            "tags": _terms(change),
        }
        article = outbound_url(change.url)
        if article:
            item["external_url"] = article
        diff = diffs.get(change.id)
        item["content_html" if diff is not None else "content_text"] = (
            str(diff) if diff is not None else item["summary"]
        )
        items.append(item)
    document = {
        "version": JSON_FEED_VERSION,
        "title": _feed_title(query),
        "home_page_url": req.base + with_query("/", query),
        "feed_url": req.base + with_query("/changes.json", query),
        "authors": [{"name": "Newsmonitor"}],
        "items": items,
    }
    return web.Response(
        text=json.dumps(document, ensure_ascii=False, indent=1),
        content_type="application/feed+json",
        charset="utf-8",
    )
