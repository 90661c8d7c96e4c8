"""Real feeds through feed-only monitoring, twice: are posts kept apart, is noise ignored?

Usage: ``python -m bench.real_feeds [CORPORA_DIR] [--only TEXT] [-v]``. ``CORPORA_DIR``
defaults to ``../shared/corpora`` beside the repository; ``--only`` keeps the feeds whose
corpus path contains TEXT; ``-v`` lists every false change and article error.

Every file of ``real_feeds/INVENTORY.tsv`` with an entry that has an http(s) link (the
engine can only track those; the other files are counted and left out) is served on
loopback and configured as one ``[[feeds]]`` with ``fetch_articles = false`` (feed-only
monitoring, as issue 14 asks). Everything else is the shipped default: configured feed
URLs are trusted as they are (``trust_origin``), so ``allow_private_addresses`` stays off.
Each store is a fresh SQLite file with an empty seeds folder (the checkout's demo seeds are
not these stories); feeds that list the same article link run in separate stores, since an
article is tracked once, under the first feed that lists it.

Round 1 checks the real files. Round 2 checks them perturbed entry by entry in the parsed
XML (lxml), so the document stays valid:

- typography swapped in every title and kept summary: straight and curly quotes, `` - ``
  and `` – ``/`` — ``, ``...`` and ``…``, one space per text run made a no-break space;
- summaries and content dropped from every third entry (``description``, ``summary``,
  ``content``, ``content:encoded``, ``itunes:summary``, ``media:description``, ...);
- one edit per feed, " (updated)" appended to the title of the middle one of the entries
  that keep their summary and whose GUID and link are their own (to the summary, in a feed
  whose entries have no titles).

The perturbed document is read back through the engine's parser: the same GUIDs and links
in the same order, the edit where the engine reads it, the summaries gone; a feed where
that fails is flagged with ``!``. (Leading whitespace before the XML declaration is not
kept: a round-1 warning about it does not return in round 2.)

Measured per feed: GUIDs (entries with an http(s) link, counted by distinct GUID, or by
distinct link as the feed gives it where an entry has none), articles tracked after round 1
(``list_articles``), and round 2's changes: the edit caught (a ``changed`` event on the
edited entry's article, minor or more), cosmetic changes (allowed, counted apart) and false
changes (every other event). Targets (issue 14): tracked = GUIDs, 0 false changes, every
edit caught. Exit status 0 whatever the figures (2 without the corpus).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import re
import sys
import tempfile
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lxml import etree

from monitor.config import Settings, settings_from_dict
from monitor.errors import FeedParseError
from monitor.feeds import parse_feed
from monitor.models import Article, Change, ChangeKind, CheckReport, FeedEntry, Significance
from monitor.normalize import normalize_url
from monitor.pipeline import check_once
from monitor.store.sql import open_store
from tests.webserver import Reply, WebServer

DEFAULT_CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
ROUND_1 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # an injected clock: no sleeps
ROUND_2 = ROUND_1 + timedelta(hours=1)
EDIT_SUFFIX = " (updated)"
DROP_EVERY = 3  # entries 3, 6, 9, ... lose their summary and content
LOOPBACK = "http://127.0.0.1"
FEED_TYPE = "application/xml"  # parse_feed's header-less behaviour: declared encoding

_ATOM = ("http://www.w3.org/2005/Atom", "http://purl.org/atom/ns#")
_RSS = ("", "http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/")
_USERLAND = ("http://backend.userland.com/rss2", "http://backend.userland.com/rss")
ENTRY_TAGS = frozenset((ns, n) for ns in (*_ATOM, *_RSS, *_USERLAND) for n in ("item", "entry"))
# Local names feedparser reads an entry's title and summary from, in any namespace and at
# any depth: it takes media:title, or an <image>'s <title> inside an <item>, as the title.
TITLE_NAMES = frozenset({"title"})
SUMMARY_NAMES = frozenset({"description", "summary", "content", "encoded", "abstract", "body"})


@dataclass(frozen=True)
class CorpusFeed:
    """One file of the real-feeds corpus, as served on loopback."""

    name: str  # its corpus path, also its feed name
    body: bytes
    path: str  # where the loopback server answers with it
    links: frozenset[str]  # the normalized links of its entries


@dataclass(frozen=True)
class Edit:
    """The entry round 2 edits: its title, or its summary in a feed without titles."""

    guid: str | None
    link: str
    field: str  # "title" or "summary"
    text: str  # the edited field, as the perturbed feed parses


@dataclass(frozen=True)
class Perturbed:
    """A feed document with round 2's perturbations, and what they did to its entries."""

    body: bytes
    edit: Edit | None
    retyped: int  # entries whose title or kept summary reads differently (edit included)
    dropped: int  # entries whose summary the feed no longer carries
    problem: str | None = None  # why the perturbation is not what it claims, if it is not


@dataclass(frozen=True)
class FeedResult:
    """Round 1 and round 2 of one feed, measured."""

    name: str
    guids: int
    tracked: int
    perturbed: Perturbed
    caught: bool
    cosmetic: tuple[Change, ...]
    false: tuple[Change, ...]
    errors: tuple[str, ...]  # feed-level failures and warnings of either round


@dataclass(frozen=True)
class BenchRun:
    """Every feed measured, and the article-level errors of the runs (they name a URL,
    not a feed)."""

    results: tuple[FeedResult, ...]
    article_errors: tuple[str, ...]


# ---- the corpus -------------------------------------------------------------------------


def load_corpus(corpora: Path, only: str = "") -> tuple[list[CorpusFeed], int, int]:
    """The corpus files that have an entry with an http(s) link; and how many were left
    out: files with entries but none with such a link, and files with no entry at all."""
    folder = corpora / "real_feeds"
    feeds, unlinked, empty = [], 0, 0
    with (folder / "INVENTORY.tsv").open(encoding="utf-8", newline="") as inventory:
        for row in csv.DictReader(inventory, delimiter="\t"):
            name = row["path"]
            if only not in name:
                continue
            if int(row["n_entries"]) == 0:
                empty += 1
                continue
            body = (folder / name).read_bytes()
            links = {normalize_url(e.link or "") for e in linked_entries(parse(body, name))}
            if links:
                feeds.append(CorpusFeed(name, body, "/" + name, frozenset(links)))
            else:
                unlinked += 1
    return feeds, unlinked, empty


def separate(feeds: Sequence[CorpusFeed]) -> list[list[CorpusFeed]]:
    """The feeds in groups where no two list the same article link, each group to run in
    a store of its own: an article is tracked once, under the first feed that lists it (by
    design), and copies in the corpus (xml2js-options.rss is rss-1.rss) would otherwise
    show as articles not tracked."""
    groups: list[tuple[list[CorpusFeed], set[str]]] = []
    for feed in feeds:
        for members, links in groups:
            if links.isdisjoint(feed.links):
                members.append(feed)
                links |= feed.links
                break
        else:
            groups.append(([feed], set(feed.links)))
    return [members for members, _ in groups]


def parse(body: bytes, url: str) -> Sequence[FeedEntry]:
    """The entries the engine reads in ``body`` (none when it is not a feed); ``url`` is
    where it is served, or its corpus path (links are then resolved on 127.0.0.1)."""
    url = url if url.startswith("http") else f"{LOOPBACK}/{url}"
    try:
        return parse_feed(body, url, {"content-type": FEED_TYPE}).entries
    except FeedParseError:
        return ()


def has_link(entry: FeedEntry) -> bool:
    """Whether the engine can track ``entry``: it needs an http(s) link."""
    return bool(entry.link and entry.link.startswith(("http://", "https://")))


def linked_entries(entries: Sequence[FeedEntry]) -> list[FeedEntry]:
    return [entry for entry in entries if has_link(entry)]


def identity(entry: FeedEntry) -> str:
    """What makes an entry its own in the feed: its GUID, or its link (as the feed gives
    it, fragment included) when it has none."""
    return entry.guid or (entry.link or "").strip()


def count_guids(entries: Sequence[FeedEntry]) -> int:
    """Distinct identities among the entries with a link: the articles a feed holds."""
    return len({identity(entry) for entry in linked_entries(entries)})


# ---- perturbation -----------------------------------------------------------------------

# One pass over the text, so that a swapped character is never swapped back.
_TYPOGRAPHY = re.compile(r"\.\.\.|…|(?<= )[-–—](?= )|[\"“”'‘’]")
_CLOSING = {'"': "”", "'": "’"}
_OPENING = {'"': "“", "'": "‘"}
_PLAIN = {"…": "...", "–": "-", "—": "-", "“": '"', "”": '"', "‘": "'", "’": "'"}
_TAG = re.compile(r"(<[^>]*>)")  # markup in escaped HTML is left alone: only text changes
_INNER_SPACE = re.compile(r"(?<=\S) (?=\S)")


def swap_typography(text: str) -> str:
    """``text`` in the other typography: the same words, other quotes, dashes, ellipses and
    one no-break space per run of text; markup (escaped HTML) untouched."""
    parts = _TAG.split(text)
    return "".join(part if i % 2 else _swap_run(part) for i, part in enumerate(parts))


def _swap_run(run: str) -> str:
    def other(match: re.Match[str]) -> str:
        found = match.group()
        if found == "...":
            return "…"
        if found == "-":
            return "–"
        if found in _PLAIN:
            return _PLAIN[found]
        # Straight quotes become curly: opening at a word's start, closing (or apostrophe)
        # elsewhere.
        before = run[match.start() - 1] if match.start() else " "
        return (_OPENING if before.isspace() or before in "([{" else _CLOSING)[found]

    return _INNER_SPACE.sub("\u00a0", _TYPOGRAPHY.sub(other, run), count=1)


def perturb(body: bytes, url: str) -> Perturbed:
    """Round 2's document: typography swapped, every third summary dropped, one title
    edited; checked by parsing it again (same identities, in the same order)."""
    tree = parse_xml(body)
    entries = [el for el in tree.iter() if _qname(el) in ENTRY_TAGS]
    before = parse(body, url)
    if len(entries) != len(before):
        problem = f"lxml sees {len(entries)} entries, feedparser {len(before)}"
        return Perturbed(body, None, 0, 0, problem)
    field = "title" if any(e.title for e in linked_entries(before)) else "summary"
    chosen = choose_edit(before, field)
    for index, entry in enumerate(entries):
        drop = index % DROP_EVERY == DROP_EVERY - 1
        _perturb_entry(entry, drop, field if index == chosen else None)
    doc = tree.getroottree()
    out = etree.tostring(doc, xml_declaration=True, encoding=doc.docinfo.encoding or "UTF-8")
    return verify(before, parse(out, url), out, chosen, field)


def parse_xml(body: bytes) -> etree._Element:
    """The document as lxml reads it, mended the least that makes it parse: whitespace
    before the XML declaration removed, undeclared bytes read as windows-1252 (feedparser's
    own fallback), then lxml's recovery."""
    data = body.lstrip()
    attempts: list[dict[str, Any]] = [{}, {"encoding": "windows-1252"}, {"recover": True}]
    for extra in attempts:
        parser = etree.XMLParser(strip_cdata=False, resolve_entities=False, huge_tree=True, **extra)
        try:
            return etree.fromstring(data, parser)
        except etree.XMLSyntaxError as error:
            last = error
    raise last


def _qname(element: etree._Element) -> tuple[str, str]:
    if not isinstance(element.tag, str):
        return ("", "")  # comments and processing instructions
    name = etree.QName(element)
    return (name.namespace or "", name.localname)


def choose_edit(entries: Sequence[FeedEntry], field: str) -> int | None:
    """The index of the entry to edit: the middle one of those with the ``field`` to edit,
    a link and a GUID of their own, and a summary that round 2 keeps."""
    links = Counter((e.link or "").strip() for e in entries)
    keys = Counter(identity(e) for e in linked_entries(entries))
    candidates = [
        i
        for i, e in enumerate(entries)
        if has_link(e)
        and getattr(e, field)
        and links[(e.link or "").strip()] == 1
        and keys[identity(e)] == 1
        and i % DROP_EVERY != DROP_EVERY - 1
    ]
    return candidates[len(candidates) // 2] if candidates else None


def _perturb_entry(entry: etree._Element, drop: bool, edit: str | None) -> None:
    """Swap the typography of ``entry``'s titles and summaries, drop its summaries
    (``drop``) and append the edit to its ``edit`` field ("title" or "summary")."""
    titles, summaries = _fields(entry)
    for title in titles:
        _map_text(title, swap_typography)
    for summary in summaries:
        if drop:
            _remove(summary)
        elif _is_text(summary):
            _map_text(summary, swap_typography)
    for element in titles if edit == "title" else summaries if edit == "summary" else []:
        _append(element, EDIT_SUFFIX)


def _fields(entry: etree._Element) -> tuple[list[etree._Element], list[etree._Element]]:
    """The entry's title and summary elements, outermost only (a field's text is changed
    once: an XHTML <body> inside an Atom <content> is part of that content)."""
    titles: list[etree._Element] = []
    summaries: list[etree._Element] = []
    for element in entry.iterdescendants():
        name = _qname(element)[1]
        found = titles if name in TITLE_NAMES else summaries if name in SUMMARY_NAMES else None
        if found is not None and not any(
            a in titles or a in summaries for a in _above(element, entry)
        ):
            found.append(element)
    return titles, summaries


def _above(element: etree._Element, entry: etree._Element) -> Iterator[etree._Element]:
    """The ancestors of ``element`` below ``entry``."""
    parent = element.getparent()
    while parent is not None and parent is not entry:
        yield parent
        parent = parent.getparent()


def _remove(element: etree._Element) -> None:
    parent = element.getparent()
    if parent is not None:
        parent.remove(element)


def _is_text(element: etree._Element) -> bool:
    """False for base64 and other binary content, which swapping would corrupt."""
    kind = (element.get("type") or "text").lower()
    textual = kind in ("text", "html", "xhtml") or kind.startswith("text/") or "xml" in kind
    return textual and element.get("mode") != "base64" and element.get("src") is None


def _map_text(element: etree._Element, change: Callable[[str], str]) -> None:
    """Apply ``change`` to every text node inside ``element`` (not to its own tail)."""
    if element.text:
        element.text = change(element.text)
    for inner in element.iterdescendants():
        if isinstance(inner.tag, str) and inner.text:
            inner.text = change(inner.text)
        if inner.tail:
            inner.tail = change(inner.tail)


def _append(element: etree._Element, suffix: str) -> None:
    if len(element):
        last = element[-1]
        last.tail = (last.tail or "").rstrip() + suffix
    else:
        element.text = (element.text or "").rstrip() + suffix


def verify(
    before: Sequence[FeedEntry],
    after: Sequence[FeedEntry],
    body: bytes,
    chosen: int | None,
    field: str,
) -> Perturbed:
    """What the perturbation did, read back through the engine's parser; ``problem`` when it
    changed what it must not (identities) or missed what it meant to do."""
    if [(e.guid, e.link) for e in before] != [(e.guid, e.link) for e in after]:
        return Perturbed(body, None, 0, 0, "the perturbed feed parses to other GUIDs or links")
    pairs = list(zip(before, after, strict=True))
    retyped = sum(1 for old, new in pairs if old.title != new.title or _retyped(old, new))
    dropped = sum(1 for old, new in pairs if old.summary and not new.summary)
    meant = sum(
        1 for i, (old, _) in enumerate(pairs) if old.summary and i % DROP_EVERY == DROP_EVERY - 1
    )
    problems = [f"{meant - dropped} summaries survived the drop"] if dropped < meant else []
    edit = None
    if chosen is not None:
        edited = after[chosen]
        text = getattr(edited, field)
        edit = Edit(edited.guid, edited.link or "", field, text)
        if EDIT_SUFFIX.strip() not in text:
            problems.append(f"the edit did not reach the parsed {field}: {text[-40:]!r}")
    return Perturbed(body, edit, retyped, dropped, "; ".join(problems) or None)


def _retyped(old: FeedEntry, new: FeedEntry) -> bool:
    return bool(new.summary) and old.summary != new.summary


# ---- the two rounds ---------------------------------------------------------------------


def feed_settings(feeds: Sequence[CorpusFeed], web: WebServer, work: Path) -> Settings:
    """Shipped defaults but feed-only monitoring, a fresh store and no seeds."""
    (work / "seeds").mkdir()
    return settings_from_dict({
        "feeds": [
            {"name": f.name, "url": web.url(f.path), "fetch_articles": False} for f in feeds
        ],
        "storage": {"url": f"sqlite:///{work / 'bench.db'}"},
        "seeds": {"dir": str(work / "seeds")},
    })  # fmt: skip


def serve(web: WebServer, feeds: Sequence[CorpusFeed], bodies: Sequence[bytes]) -> None:
    for feed, body in zip(feeds, bodies, strict=True):
        web.set(feed.path, Reply(body, content_type=FEED_TYPE))


def run_all(feeds: Sequence[CorpusFeed], work: Path) -> BenchRun:
    """Both rounds for every group of feeds (``separate``), one loopback server for all."""
    web = WebServer().start()
    results: list[FeedResult] = []
    errors: list[str] = []
    try:
        for number, group in enumerate(separate(feeds)):
            (work / str(number)).mkdir()
            measured, failed = run_rounds(group, web, work / str(number))
            results += measured
            errors += failed
    finally:
        web.stop()
    order = {feed.name: index for index, feed in enumerate(feeds)}
    results.sort(key=lambda result: order[result.name])
    return BenchRun(tuple(results), tuple(errors))


def run_rounds(
    feeds: Sequence[CorpusFeed], web: WebServer, work: Path
) -> tuple[list[FeedResult], list[str]]:
    """Round 1 on the real files, round 2 on the perturbed ones, in a fresh store: each
    feed measured, and the article errors of both rounds."""
    settings = feed_settings(feeds, web, work)
    store = open_store(settings.storage.url)
    try:
        serve(web, feeds, [f.body for f in feeds])
        first = asyncio.run(check_once(settings, store, ROUND_1, force=True))
        tracked = {f.name: len(store.list_articles(f.name)) for f in feeds}
        perturbed = [perturb(f.body, web.url(f.path)) for f in feeds]
        serve(web, feeds, [p.body for p in perturbed])
        second = asyncio.run(check_once(settings, store, ROUND_2, force=True))
        articles = {a.id: a for a in store.list_articles()}
    finally:
        store.close()
    results = [
        measure(f, p, tracked[f.name], (first, second), articles)
        for f, p in zip(feeds, perturbed, strict=True)
    ]
    errors = [f"round {n}: {e}" for n, run in enumerate((first, second), 1) for e in run.errors]
    return results, errors


def measure(
    feed: CorpusFeed,
    perturbed: Perturbed,
    tracked: int,
    rounds: tuple[CheckReport, CheckReport],
    articles: dict[int, Article],
) -> FeedResult:
    """One feed's figures: round 2's changes sorted into the edit caught, cosmetic, false."""
    edited = edited_articles(perturbed.edit, articles.values(), feed.name)
    caught, cosmetic, false = False, [], []
    for change in (c for c in rounds[1].changes if c.feed == feed.name):
        if is_catch(change, edited) and not caught:
            caught = True
        elif change.significance == Significance.COSMETIC:
            cosmetic.append(change)
        else:
            false.append(change)
    return FeedResult(
        feed.name,
        count_guids(parse(feed.body, feed.name)),
        tracked,
        perturbed,
        caught,
        tuple(cosmetic),
        tuple(false),
        feed_troubles(feed.name, rounds),
    )


def edited_articles(edit: Edit | None, articles: Iterable[Article], feed: str) -> set[int]:
    """The ids of the articles the edited entry may be recorded as: by GUID or by link."""
    if edit is None:
        return set()
    link = normalize_url(edit.link)
    return {
        a.id
        for a in articles
        if a.feed == feed and ((edit.guid and a.guid == edit.guid) or a.url == link)
    }


def is_catch(change: Change, edited: set[int]) -> bool:
    significance = change.significance or Significance.COSMETIC
    return (
        change.kind == ChangeKind.CHANGED
        and change.article_id in edited
        and significance.rank >= Significance.MINOR.rank
    )


def feed_troubles(name: str, rounds: tuple[CheckReport, CheckReport]) -> tuple[str, ...]:
    """The feed's errors and warnings in either round, each marked with its round."""
    return tuple(
        f"round {number}: {report.error or report.warning}"
        for number, run in enumerate(rounds, start=1)
        for report in run.feeds
        if report.name == name and (report.error or report.warning)
    )


# ---- the report -------------------------------------------------------------------------


def short(name: str, width: int) -> str:
    """``name`` cut in the middle to fit ``width`` characters."""
    if len(name) <= width:
        return name
    keep = width - 1
    return name[: keep // 2] + "…" + name[len(name) - (keep - keep // 2) :]


HEADER = f"{'feed (corpus path)':34s} GUIDs   tracked  false  cosm.  edit"


def feed_line(result: FeedResult) -> str:
    """One feed's figures under HEADER, in 80 columns."""
    edit = "—" if result.perturbed.edit is None else ("caught" if result.caught else "MISSED")
    same = "=" if result.tracked == result.guids else "≠"
    return (
        f"{short(result.name, 34):34s} {result.guids:5d} {same} {result.tracked:7d} "
        f"{len(result.false):6d} {len(result.cosmetic):6d}  {edit}"
    )


def describe(change: Change) -> str:
    grade = f" {change.significance}" if change.significance else ""
    tags = f" [{', '.join(change.tags)}]" if change.tags else ""
    head = f"    {change.kind}{grade}{tags}: "
    return head + short(change.title or change.url, max(20, 78 - len(head)))


def feed_report(result: FeedResult, verbose: bool) -> list[str]:
    """The feed's line, its troubles, and its false changes (the first two; all with -v)."""
    lines = [feed_line(result)]
    notes = [*result.errors, *([result.perturbed.problem] if result.perturbed.problem else [])]
    lines += [
        textwrap.fill(n, 78, initial_indent="    ! ", subsequent_indent="      ") for n in notes
    ]
    shown = result.false if verbose else result.false[:2]
    lines += [describe(change) for change in shown]
    if len(result.false) > len(shown):
        lines.append(f"    … and {len(result.false) - len(shown)} more (-v lists them)")
    return lines


def totals(run: BenchRun, verbose: bool) -> list[str]:
    """The totals, what the perturbation did, and the targets MET or NOT MET."""
    results = run.results
    guids = sum(r.guids for r in results)
    tracked = sum(r.tracked for r in results)
    apart = sum(1 for r in results if r.tracked != r.guids)
    edits = sum(1 for r in results if r.perturbed.edit is not None)
    caught = sum(r.caught for r in results)
    false = [c for r in results for c in r.false]
    kinds = Counter(f"{c.kind} {c.significance or ''}".strip() for c in false)
    by_kind = ", ".join(f"{n} {k}" for k, n in kinds.most_common()) or "none"
    retyped = sum(r.perturbed.retyped for r in results)
    dropped = sum(r.perturbed.dropped for r in results)
    flawed = sum(1 for r in results if r.perturbed.problem)
    mark = {True: "MET", False: "NOT MET"}
    return [
        f"feeds {len(results)}; perturbation flawed in {flawed} (marked !)",
        f"round 2: entries retyped {retyped}, summaries dropped {dropped}, edits made {edits}",
        f"articles tracked {tracked} of {guids} GUIDs ({apart} feeds differ)",
        f"false changes {len(false)} ({by_kind})",
        f"cosmetic changes {sum(len(r.cosmetic) for r in results)} (allowed)",
        f"edits caught {caught} of {edits}; missed {edits - caught}",
        f"article errors {len(run.article_errors)}" + ("" if verbose else " (-v lists them)"),
        *(f"    {short(error, 74)}" for error in (run.article_errors if verbose else ())),
        "targets:",
        f"  tracked = GUIDs in every feed: {tracked}/{guids} {mark[not apart]}",
        f"  0 false changes: {len(false)} {mark[not false]}",
        f"  every edit caught: {caught}/{edits} {mark[caught == edits]}",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: both rounds, the report; 0 unless the corpus is missing (2)."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.real_feeds", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "corpora",
        nargs="?",
        type=Path,
        default=DEFAULT_CORPORA,
        help=f"the folder holding real_feeds/ (default {DEFAULT_CORPORA})",
    )
    parser.add_argument(
        "--only", default="", metavar="TEXT", help="only feeds whose corpus path contains TEXT"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="list every false change and article error"
    )
    args = parser.parse_args(argv)
    if not (args.corpora / "real_feeds" / "INVENTORY.tsv").is_file():
        print(f"real_feeds corpus not found under {args.corpora}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    feeds, unlinked, empty = load_corpus(args.corpora, args.only)
    with tempfile.TemporaryDirectory(prefix="newsmonitor-real-feeds-") as work:
        run = run_all(feeds, Path(work))
    print(HEADER)
    for result in run.results:
        print(*feed_report(result, args.verbose), sep="\n")
    print()
    print(f"left out: {unlinked} files with no entry linked over http(s), {empty} with no entry")
    print(*totals(run, args.verbose), sep="\n")
    print(f"finished in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
