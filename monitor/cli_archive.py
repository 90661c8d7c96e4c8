"""The commands that get evidence out of the archive (issue 19): ``search``, ``show`` and
``export``. Registered on the ``newsmonitor`` group by cli.py; thin, like the rest of it."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from monitor.cli import (
    UserError,
    _console,
    _opened,
    echo_json,
    find_article,
    friendly,
    json_option,
)

_DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
# Articles a search lists unless told otherwise (--limit, --all): a phrase in a quarter of
# a big archive costs a page of articles then, not the archive (issue 19).
SEARCH_LIMIT = 50


@click.command()
@click.argument("phrase")
@click.option("--feed", default=None, help="Only articles of this feed.")
@click.option(
    "--since",
    type=click.DateTime(_DATE_FORMATS),
    default=None,
    help="Only articles with the phrase in a version captured on or after this (UTC).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=SEARCH_LIMIT,
    show_default=True,
    help="List at most this many articles, newest first.",
)
@click.option("--all", "every", is_flag=True, help="List every article (no --limit).")
@json_option()
@click.pass_context
@friendly
def search(
    ctx: click.Context,
    phrase: str,
    feed: str | None,
    since: datetime | None,
    limit: int,
    every: bool,
    as_json: bool,
) -> None:
    """Articles whose text ever contained PHRASE, in any stored version, including text
    deleted since: the version where it appeared and the one where it disappeared. Newest
    first (by the newest version with the phrase), at most --limit of them; the output
    says when more have it.

    PHRASE is matched as whole words in order, ignoring case and line breaks; punctuation
    in it must match too ("30,000" does not find "30 000").

    \b
    Examples:
      newsmonitor search "30,000 people"
      newsmonitor search "according to police" --feed world --since 2026-12-01 --json
      newsmonitor search "police said" --all > every-article.tsv
    """
    from monitor.store.evidence import phrase_words

    if not phrase_words(phrase):
        raise UserError(f"nothing to search for in {phrase!r}: it has no letters or digits")
    moment = since.replace(tzinfo=UTC) if since is not None else None
    with _opened(ctx, read_only=True) as (_, store):
        # One more than listed: whether more exist, at the cost of one article's check.
        wanted = None if every else limit + 1
        found = store.search_phrase(phrase, feed=feed, since=moment, limit=wanted)
    more = not every and len(found) > limit
    found = found if every else found[:limit]
    if as_json:
        from monitor.serialize import phrase_history_to_json

        document = {
            "phrase": phrase,
            "limit": None if every else limit,
            "more": more,
            "articles": [phrase_history_to_json(h) for h in found],
        }
        echo_json(document, ensure_ascii=False)
        return
    if not found:
        click.echo(f"no stored version contains {phrase!r}")
        return
    from monitor.render.report import search_listing
    from monitor.render.tables import print_listing

    print_listing(_console(), search_listing(phrase, found))
    if more:
        # On stderr: piped, the listing stays one header and one line per article.
        click.echo(
            f"more articles have it: the {limit} newest are listed (--limit N or --all)",
            err=True,
        )


@click.command()
@click.argument("article")
@click.option(
    "--version", "number", type=int, default=None, help="Version number (default: latest)."
)
@click.option("--raw", is_flag=True, help="Write the capture as received (bytes), not the text.")
@click.pass_context
@friendly
def show(ctx: click.Context, article: str, number: int | None, raw: bool) -> None:
    """Print a stored version of ARTICLE (an id or its URL): its text, or with --raw the
    response body it was extracted from, byte for byte.

    \b
    Examples:
      newsmonitor show 3
      newsmonitor show 3 --version 1 --raw > v1.html
    """
    with _opened(ctx, read_only=True) as (_, store):
        found = find_article(store, article)
        version = (
            store.latest_version(found.id)
            if number is None
            else store.get_version(found.id, number)
        )
        if version is None:
            held = f"it has versions 1–{found.versions}" if found.versions else "it has none"
            wanted = "any version" if number is None else f"version {number}"
            raise UserError(f"article {found.id} has no {wanted} ({held})")
        body = store.get_raw_body(found.id, version.number) if raw else None
    if not raw:
        click.echo(version.text)
        return
    if body is None:
        raise UserError(
            f"article {found.id} version {version.number} has no raw capture kept "
            "(its text came from the feed entry, or it was stored without one)"
        )
    sys.stdout.flush()
    sys.stdout.buffer.write(body.content)
    sys.stdout.buffer.flush()


@click.command()
@click.option(
    "--jsonl",
    "jsonl_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write articles, versions and changes as JSON Lines files into this folder.",
)
@click.option(
    "--csv",
    "csv_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write them as CSV files into this folder.",
)
@click.option(
    "--sentences",
    is_flag=True,
    help="Also write the sentence operations between consecutive versions.",
)
@click.option(
    "--warc",
    "warc_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write every stored capture to this gzipped WARC/1.1 file instead.",
)
@click.option("--feed", default=None, help="With --warc: only the captures of this feed.")
@click.option(
    "--since",
    type=click.DateTime(_DATE_FORMATS),
    default=None,
    help="With --warc: only captures fetched on or after this (UTC).",
)
@click.pass_context
@friendly
def export(
    ctx: click.Context,
    jsonl_dir: Path | None,
    csv_dir: Path | None,
    sentences: bool,
    warc_file: Path | None,
    feed: str | None,
    since: datetime | None,
) -> None:
    """Write the archive as dataset files: articles, versions (text, metadata, hash) and
    changes (kind, significance, tags, stats, seed drift), one record a line; with
    --sentences, also each added, removed, edited or moved sentence between consecutive
    versions, with both texts. Or, with --warc, every stored capture as a WARC response
    record with its HTTP status and headers. Streams: memory stays flat however large the
    store.

    \b
    Examples:
      newsmonitor export --jsonl dataset/
      newsmonitor export --csv dataset/ --sentences
      newsmonitor export --warc archive.warc.gz --feed world --since 2026-12-01
      python -c "import pandas; print(pandas.read_json('dataset/versions.jsonl', lines=True))"
    """
    from monitor.export import Format, export_dataset

    if sum(target is not None for target in (jsonl_dir, csv_dir, warc_file)) != 1:
        raise UserError("export needs one of --jsonl DIR, --csv DIR or --warc FILE")
    if warc_file is not None:
        _export_warc(ctx, warc_file, feed, since.replace(tzinfo=UTC) if since else None)
        return
    if feed is not None or since is not None:
        raise UserError("--feed and --since select captures for --warc; datasets hold all")
    fmt: Format = "jsonl" if jsonl_dir is not None else "csv"
    directory = jsonl_dir or csv_dir
    assert directory is not None
    with _opened(ctx, read_only=True) as (_, store):
        try:
            report = export_dataset(store, directory, fmt, sentences=sentences)
        except OSError as exc:
            raise UserError(f"cannot write {exc.filename or directory}: {exc.strerror}") from exc
    for path, count in report.files:
        click.echo(f"{path}: {count} records")


def _export_warc(ctx: click.Context, path: Path, feed: str | None, since: datetime | None) -> None:
    from monitor.warc import export_warc

    with _opened(ctx, read_only=True) as (_, store):
        try:
            report = export_warc(store, path, feed=feed, since=since)
        except OSError as exc:
            raise UserError(f"cannot write {exc.filename or path}: {exc.strerror}") from exc
    older = f" ({report.without_headers} stored before headers were recorded)"
    revisits = f", {report.revisits} revisit records (304 Not Modified)"
    click.echo(
        f"{report.path}: {report.responses} captures"
        + (older if report.without_headers else "")
        + (revisits if report.revisits else "")
    )
