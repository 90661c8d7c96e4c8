"""The archive as dataset files a researcher loads in pandas (issue 19): articles, versions
and changes, and optionally the sentence operations between consecutive versions.

Written as JSON Lines (one object a line) or CSV (a header, then one row a record; lists
and objects in a cell are JSON). The store is read in batches and each record written as
it comes, so memory stays flat however large the store; each file is written under a
``.part`` name and renamed when complete, so a file that exists is whole.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from monitor.diff import diff_texts
from monitor.models import Article, Change, SentenceStatus, Version
from monitor.serialize import ARTICLE_FIELDS, CHANGE_FIELDS, pick
from monitor.store import EvidenceStore

Format = Literal["jsonl", "csv"]

# Column order of each file (the CSV header; JSON Lines objects keep it too).
ARTICLE_COLUMNS = (*ARTICLE_FIELDS, "last_in_feed", "last_seen")
VERSION_COLUMNS = (
    "article_id",
    "number",
    "fetched_at",
    "url",
    "source",
    "title",
    "feed_title",
    "byline",
    "published",
    "modified",
    "canonical_url",
    "content_hash",
    "size",
    "text",
)
CHANGE_COLUMNS = CHANGE_FIELDS
# One row per sentence operation between version ``old_version`` and ``new_version``
# (unchanged sentences left out), in the shape of the NewsEdits dataset.
SENTENCE_COLUMNS = (
    "article_id",
    "old_version",
    "new_version",
    "operation",
    "old_index",
    "new_index",
    "old_sentence",
    "new_sentence",
    "similarity",
)
# diff.py's statuses under the names the sentence file uses.
_OPERATIONS = {
    SentenceStatus.ADDED: "added",
    SentenceStatus.DELETED: "removed",
    SentenceStatus.EDITED: "edited",
    SentenceStatus.MOVED: "moved",
}


@dataclass(frozen=True)
class ExportReport:
    """What an export wrote: each file and its count of records."""

    files: tuple[tuple[Path, int], ...]

    @property
    def versions(self) -> int:
        return next((n for path, n in self.files if path.stem == "versions"), 0)


def export_dataset(
    store: EvidenceStore,
    directory: Path,
    fmt: Format,
    sentences: bool = False,
    on_version: Callable[[], None] | None = None,
) -> ExportReport:
    """Write articles, versions, changes (and sentences) into ``directory`` as ``fmt``;
    ``on_version`` is called after each version, for progress."""
    directory.mkdir(parents=True, exist_ok=True)
    counts: list[tuple[Path, int]] = []
    articles = (_article_row(a) for a in store.iter_articles())
    counts.append(_write(directory / f"articles.{fmt}", fmt, ARTICLE_COLUMNS, articles))
    with ExitStack() as files:
        sentence_file = None
        if sentences:
            sentence_file = files.enter_context(
                _RecordFile(directory / f"sentences.{fmt}", fmt, SENTENCE_COLUMNS)
            )
        version_file = files.enter_context(
            _RecordFile(directory / f"versions.{fmt}", fmt, VERSION_COLUMNS)
        )
        previous: Version | None = None
        for version in store.iter_versions():
            version_file.write(_version_row(version))
            if sentence_file is not None:
                if previous is not None and previous.article_id == version.article_id:
                    for row in sentence_rows(previous, version):
                        sentence_file.write(row)
                previous = version
            if on_version is not None:
                on_version()
        for record_file in (version_file, sentence_file):
            if record_file is not None:
                counts.append((record_file.path, record_file.count))
    changes = (_change_row(c) for c in store.iter_changes())
    counts.append(_write(directory / f"changes.{fmt}", fmt, CHANGE_COLUMNS, changes))
    return ExportReport(tuple(counts))


def sentence_rows(old: Version, new: Version) -> Iterator[dict[str, Any]]:
    """The sentence operations (added, removed, edited, moved) from ``old`` to ``new``."""
    for sentence in diff_texts(old.text, new.text).sentences:
        operation = _OPERATIONS.get(sentence.status)
        if operation is None:
            continue
        yield {
            "article_id": new.article_id,
            "old_version": old.number,
            "new_version": new.number,
            "operation": operation,
            "old_index": sentence.old_index,
            "new_index": sentence.new_index,
            "old_sentence": sentence.old,
            "new_sentence": sentence.new,
            "similarity": round(sentence.similarity, 4),
        }


def _article_row(article: Article) -> dict[str, Any]:
    return pick(article, ARTICLE_COLUMNS)


def _version_row(version: Version) -> dict[str, Any]:
    return pick(version, VERSION_COLUMNS)


def _change_row(change: Change) -> dict[str, Any]:
    return pick(change, CHANGE_COLUMNS)


def _write(
    path: Path, fmt: Format, columns: tuple[str, ...], rows: Iterable[dict[str, Any]]
) -> tuple[Path, int]:
    with _RecordFile(path, fmt, columns) as out:
        for row in rows:
            out.write(row)
    return path, out.count


class _RecordFile:
    """One dataset file, written under ``.part`` and renamed into place on a clean exit."""

    def __init__(self, path: Path, fmt: Format, columns: tuple[str, ...]) -> None:
        self.path = path
        self.count = 0
        self._partial = path.with_name(path.name + ".part")
        self._fmt = fmt
        self._columns = columns
        self._stream: IO[str] | None = None
        self._csv: Any = None

    def __enter__(self) -> _RecordFile:
        # newline="": the csv module writes its own line ends (and keeps those inside cells).
        self._stream = open(self._partial, "w", encoding="utf-8", newline="")
        if self._fmt == "csv":
            self._csv = csv.writer(self._stream)
            self._csv.writerow(self._columns)
        return self

    def write(self, row: dict[str, Any]) -> None:
        assert self._stream is not None
        if self._csv is not None:
            self._csv.writerow([_csv_cell(row[column]) for column in self._columns])
        else:
            self._stream.write(json.dumps(row, ensure_ascii=False) + "\n")
        self.count += 1

    def __exit__(self, exc_type: object, *rest: object) -> None:
        assert self._stream is not None
        self._stream.close()
        if exc_type is None:
            os.replace(self._partial, self.path)
        else:
            self._partial.unlink(missing_ok=True)


def _csv_cell(value: Any) -> Any:
    """A CSV cell: lists and objects as JSON, None as an empty cell."""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else value
