"""Stored captures as a WARC/1.1 file (issue 19), readable by warcio's tools and web
archive replay: one ``response`` record per stored raw capture, with the HTTP status and
response headers it arrived with, and a ``metadata`` record beside it naming the article,
the version and the URL asked for.

Re-checks the server answered with 304 Not Modified become ``revisit`` records (profile
server-not-modified) pointing at the capture they confirm: the store keeps, per article
and version, the first and the last 304 and how many there were (not every one: a store
re-checking 5,000 pages every 15 minutes would gain 480,000 rows a day), so the first and
the last of each run are written, with the 304's own headers, and a ``metadata`` record
beside the first gives the count.

The body is stored decoded (no gzip, no chunks), so the headers that described the
transfer (Content-Encoding, Transfer-Encoding, Content-Length) are replaced by the
length of what is written. Captures stored before the headers were recorded (store
revision 0008) get a minimal header block (200, Content-Type, Content-Length), and their
metadata record says so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from typing import Any

from monitor.models import RawBody, Revisit, Version
from monitor.store import EvidenceStore

# Headers about how the body travelled, not what it is: the stored body is decoded.
_TRANSFER_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})
MINIMAL_HEADERS_WARNING = (
    "headers-not-recorded: this capture was stored before Newsmonitor recorded HTTP status "
    "and response headers; the status and header block of its response record were made "
    "up at export (200, Content-Type, Content-Length)"
)
SERVER_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"


@dataclass(frozen=True)
class WarcReport:
    """What a WARC export wrote."""

    path: Path
    responses: int
    without_headers: int  # captures from before headers were recorded
    revisits: int = 0  # revisit records: the first and last 304 of each run


def export_warc(
    store: EvidenceStore,
    path: Path,
    feed: str | None = None,
    since: datetime | None = None,
) -> WarcReport:
    """Write every stored capture (of ``feed``; fetched at or after ``since``) to the
    gzipped WARC file ``path``, written under ``.part`` and renamed when complete."""
    from warcio.warcwriter import WARCWriter

    from monitor import __version__

    partial = path.with_name(path.name + ".part")
    responses = without_headers = revisit_records = 0
    try:
        with open(partial, "wb") as stream:
            writer = WARCWriter(stream, gzip=True, warc_version="WARC/1.1")
            info = {"software": f"Newsmonitor {__version__}", "format": "WARC File Format 1.1"}
            writer.write_record(writer.create_warcinfo_record(path.name, info))
            for version, raw in store.iter_captures(feed=feed, since=since):
                response = _response_record(writer, version, raw)
                writer.write_record(response)
                writer.write_record(_metadata_record(writer, version, raw, response))
                responses += 1
                without_headers += raw.status is None
            for seen, captured in store.iter_revisits(feed=feed, since=since):
                for record in _revisit_records(writer, seen, captured, since):
                    writer.write_record(record)
                    revisit_records += record.rec_type == "revisit"
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return WarcReport(path, responses, without_headers, revisit_records)


def _response_record(writer: Any, version: Version, raw: RawBody) -> Any:
    from warcio.statusandheaders import StatusAndHeaders

    if raw.status is None or raw.headers is None:
        status = 200
        headers = [("Content-Type", raw.content_type or "application/octet-stream")]
    else:
        status = raw.status
        headers = [(name, value) for name, value in raw.headers if name not in _TRANSFER_HEADERS]
    headers.append(("Content-Length", str(len(raw.content))))
    http_headers = StatusAndHeaders(_status_line(status), headers, protocol="HTTP/1.1")
    return writer.create_warc_record(
        version.url,
        "response",
        payload=BytesIO(raw.content),
        length=len(raw.content),
        http_headers=http_headers,
        warc_headers_dict={"WARC-Date": _warc_date(version.fetched_at)},
    )


def _metadata_record(writer: Any, version: Version, raw: RawBody, response: Any) -> Any:
    lines = [
        f"article-id: {version.article_id}",
        f"version: {version.number}",
        f"content-hash: {version.content_hash}",
    ]
    if raw.request_url is not None:
        lines.append(f"request-url: {raw.request_url}")
    if raw.status is None or raw.headers is None:
        lines.append(MINIMAL_HEADERS_WARNING)
    body = ("\n".join(lines) + "\n").encode("utf-8")
    return writer.create_warc_record(
        version.url,
        "metadata",
        payload=BytesIO(body),
        length=len(body),
        warc_content_type="application/warc-fields",
        warc_headers_dict={
            "WARC-Date": _warc_date(version.fetched_at),
            "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID"),
        },
    )


def _revisit_records(
    writer: Any, seen: Revisit, captured: Version, since: datetime | None
) -> list[Any]:
    """The first and the last 304 of ``seen`` (those at or after ``since``) as revisit
    records of ``captured``, each with a metadata record beside it: the 304's status and
    headers, and the run's count."""
    ends = [(seen.first_at, seen.first_url, seen.first_headers)]
    if seen.count > 1:
        ends.append((seen.last_at, seen.last_url, seen.last_headers))
    records: list[Any] = []
    for at, url, headers in ends:
        if since is not None and at < since:
            continue
        revisit = writer.create_warc_record(
            url,
            "revisit",
            # No HTTP block: replay (pywb) then serves the capture referred to, with its
            # headers; a block with the 304's status line would be replayed as an empty
            # 304. The 304's headers go in the metadata record beside it.
            warc_content_type="application/http; msgtype=response",
            warc_headers_dict={
                "WARC-Date": _warc_date(at),
                "WARC-Profile": SERVER_NOT_MODIFIED,
                "WARC-Refers-To-Target-URI": captured.url,
                "WARC-Refers-To-Date": _warc_date(captured.fetched_at),
            },
        )
        lines = [
            f"article-id: {seen.article_id}",
            f"version: {seen.version}",
            f"refers-to-version: {captured.number}",
            f"not-modified-count: {seen.count}",
            f"first-not-modified: {_warc_date(seen.first_at)}",
            f"last-not-modified: {_warc_date(seen.last_at)}",
            f"http-status: {_status_line(304)}",
        ]
        lines += [f"http-header: {name}: {value}" for name, value in headers]
        body = ("\n".join(lines) + "\n").encode("utf-8")
        records.append(revisit)
        records.append(
            writer.create_warc_record(
                url,
                "metadata",
                payload=BytesIO(body),
                length=len(body),
                warc_content_type="application/warc-fields",
                warc_headers_dict={
                    "WARC-Date": _warc_date(at),
                    "WARC-Concurrent-To": revisit.rec_headers.get_header("WARC-Record-ID"),
                },
            )
        )
    return records


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def _warc_date(moment: datetime) -> str:
    """WARC/1.1's date: UTC, to the microsecond when there are any."""
    text = moment.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")
