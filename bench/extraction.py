"""Score article extraction on two real-page corpora: ours and, alongside, the references.

``article_extraction_benchmark`` (181 news pages): the extracted body is compared with the
human ``articleBody`` as bags of tokens with counts (``\\w+`` tokens, as the benchmark
tokenizes): precision, recall and F1 per page, then averaged. ``--ngram 4`` scores 4-token
shingles instead, the benchmark's published metric. ``--compare`` also scores the stored
predictions of other extractors (``output/``) with the same metric, as a sanity check of the
scorer.

``trafilatura_eval`` (990 pages from hundreds of sites, issue 15): snippet accuracy, as
trafilatura's own ``tests/eval_common.py`` scores it — a "with" snippet must and a "without"
snippet must not be a substring of the extracted text, whitespace collapsed on both sides;
accuracy = right snippets / all snippets — plus the share of the 851 pages with metadata gold
whose title, author and publication day match (see ``meta_matches``).

Both sets run, in one pass, through our extractor, plain trafilatura (default settings and
``favor_precision``) and readability-lxml (which has no author or date: "n/a"), and one
table is printed. ``--only ours`` skips the references. The full run takes about three
minutes on two shared cores, most of it the references on the 990 pages; ``--limit`` and
``--set`` cut it down.

    python -m bench.extraction [--set eval|benchmark|both] [--only ours] [--limit N]
                               [--ngram 4] [--compare] [--worst 10]
"""

from __future__ import annotations

import argparse
import gzip
import json
import lzma
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import lxml.html

from monitor.errors import ExtractError
from monitor.extract import Extractor, TrafilaturaExtractor

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
CORPUS = CORPORA / "article_extraction_benchmark"
EVAL_CORPUS = CORPORA / "trafilatura_eval"
OURS = "newsmonitor"
# A reference "found an article" where ours refused when it kept at least our own floor
# (TrafilaturaExtractor's min_chars) of text.
FOUND_CHARS = 50

_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True)
class BenchPage:
    """One corpus page: its id, original URL, raw HTML and ground-truth body."""

    key: str
    url: str
    html: bytes
    truth: str


@dataclass(frozen=True)
class PageScore:
    """Token-overlap scores of one page; precision is None when nothing was extracted."""

    key: str
    precision: float | None
    recall: float
    f1: float
    seconds: float
    error: str | None = None


@dataclass(frozen=True)
class BenchResult:
    """All page scores of one run and its wall-clock time."""

    scores: tuple[PageScore, ...]
    seconds: float

    @property
    def precision(self) -> float:
        """Mean precision over pages with some output (the benchmark's convention)."""
        values = [s.precision for s in self.scores if s.precision is not None]
        return statistics.fmean(values) if values else 0.0

    @property
    def recall(self) -> float:
        return statistics.fmean(s.recall for s in self.scores)

    @property
    def f1(self) -> float:
        """Mean of per-page F1; a failed page counts as 0."""
        return statistics.fmean(s.f1 for s in self.scores)

    @property
    def f1_of_means(self) -> float:
        """Harmonic mean of mean precision and mean recall, as the benchmark reports F1."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def failures(self) -> tuple[PageScore, ...]:
        return tuple(s for s in self.scores if s.error is not None)


@dataclass(frozen=True)
class Reading:
    """What one extractor made of one page: empty text and no metadata when it found nothing.

    ``refused``: ours raised ``ExtractError`` (its way of saying "no article here");
    ``error`` then holds the message. An ``error`` without ``refused`` is a crash: issue 15
    allows no page of either set to raise anything else.
    """

    text: str = ""
    title: str | None = None
    author: str | None = None
    published: date | None = None
    seconds: float = 0.0
    refused: bool = False
    error: str | None = None

    @property
    def crashed(self) -> bool:
        return self.error is not None and not self.refused


# (html, url, content type) -> Reading; may raise, read_timed() catches and times it.
ReadPage = Callable[[bytes, str, str], Reading]


@dataclass(frozen=True)
class Reader:
    """One extractor under test; ``has_metadata`` is False for one with no author and date."""

    name: str
    read: ReadPage
    has_metadata: bool = True


def read_timed(reader: Reader, html: bytes, url: str, content_type: str = "text/html") -> Reading:
    """``reader`` on one page, timed; whatever it raises becomes a refusal or a crash."""
    started = time.perf_counter()
    try:
        reading = reader.read(html, url, content_type)
    except ExtractError as exc:
        reading = Reading(refused=True, error=str(exc))
    except Exception as exc:  # counted and listed: a crash is what the bench looks for
        reading = Reading(error=f"{type(exc).__name__}: {exc}")
    return replace(reading, seconds=time.perf_counter() - started)


def local_day(moment: datetime | None) -> date | None:
    """The calendar day of ``moment`` on the page's own clock, as a reader of the page sees it.

    An aware datetime that keeps the page's offset gives the page's local day; one kept in
    UTC (or naive, which dates.py reads as UTC) gives its UTC day: ``date()`` is right in
    both cases, so the score rises by itself once extraction keeps the offset (issue 15).
    """
    return moment.date() if moment is not None else None


def read_ours(extractor: Extractor) -> ReadPage:
    """Our extractor as a reader: body, headline, byline and the published day."""

    def read(html: bytes, url: str, content_type: str) -> Reading:
        page = extractor.extract(html, url, content_type)
        return Reading(page.text, page.title, page.byline, local_day(page.published))

    return read


def read_trafilatura(*, favor_precision: bool) -> ReadPage:
    """Plain trafilatura, as a user of the library calls it (no URL, its own decoding)."""

    def read(html: bytes, url: str, content_type: str) -> Reading:
        import trafilatura
        from trafilatura.settings import Document

        document = trafilatura.bare_extraction(
            html, with_metadata=True, favor_precision=favor_precision
        )
        if not isinstance(document, Document):
            return Reading()
        return Reading(
            document.text or "", document.title, document.author, parse_day(document.date)
        )

    return read


def read_readability(html: bytes, url: str, content_type: str) -> Reading:
    """readability-lxml: the summary's text and its short title (no author, no date)."""
    from readability import Document

    document = Document(html, url=url)
    return Reading(html_text(document.summary()), document.short_title() or document.title())


_BLOCK_TAGS = (
    "p", "div", "li", "br", "tr", "td", "th", "pre", "blockquote", "section", "article",
    "h1", "h2", "h3", "h4", "h5", "h6", "dd", "dt", "figcaption",
)  # fmt: skip


def html_text(fragment: str) -> str:
    """Text of an HTML fragment with a line break after each block, so words never merge."""
    if not fragment.strip():
        return ""
    tree = lxml.html.fromstring(fragment)
    for element in tree.iter(*_BLOCK_TAGS):
        element.tail = "\n" + (element.tail or "")
    return str(tree.text_content())


def readers(only_ours: bool) -> tuple[Reader, ...]:
    """Ours first, then the references unless ``only_ours``."""
    ours = Reader(OURS, read_ours(TrafilaturaExtractor()))
    if only_ours:
        return (ours,)
    return (
        ours,
        Reader("trafilatura", read_trafilatura(favor_precision=False)),
        Reader("trafilatura precision", read_trafilatura(favor_precision=True)),
        Reader("readability-lxml", read_readability, has_metadata=False),
    )


def token_counts(text: str, ngram: int = 1) -> Counter[tuple[str, ...]]:
    """Bag of ``ngram``-token shingles with counts."""
    tokens = _TOKEN.findall(text)
    if ngram > 1 and len(tokens) < ngram:
        return Counter([tuple(tokens)] if tokens else [])
    return Counter(tuple(tokens[i : i + ngram]) for i in range(len(tokens) - ngram + 1))


def overlap(truth: str, predicted: str, ngram: int = 1) -> tuple[float | None, float, float]:
    """(precision, recall, F1) of ``predicted`` against ``truth``; precision None if empty."""
    expected, got = token_counts(truth, ngram), token_counts(predicted, ngram)
    n_expected, n_got = expected.total(), got.total()
    if n_expected == n_got == 0:
        return 1.0, 1.0, 1.0
    matched = (expected & got).total()
    precision = matched / n_got if n_got else None
    recall = matched / n_expected if n_expected else 1.0
    f1 = 2 * matched / (n_expected + n_got)
    return precision, recall, f1


def load_corpus(corpus: Path = CORPUS, limit: int | None = None) -> list[BenchPage]:
    """The corpus pages in a stable order (sorted by id), the first ``limit`` if given."""
    truth = json.loads((corpus / "ground-truth.json").read_text(encoding="utf-8"))
    keys = sorted(truth)[:limit]
    return [
        BenchPage(
            key=key,
            url=truth[key]["url"],
            html=gzip.decompress((corpus / "html" / f"{key}.html.gz").read_bytes()),
            truth=truth[key].get("articleBody") or "",
        )
        for key in keys
    ]


def run(extractor: Extractor, pages: Iterable[BenchPage], ngram: int = 1) -> BenchResult:
    """Extract and score every page; extraction failures are scored as empty output."""
    started = time.perf_counter()
    reader = Reader(OURS, read_ours(extractor))
    scores = [bench_score(page, read_timed(reader, page.html, page.url), ngram) for page in pages]
    return BenchResult(tuple(scores), time.perf_counter() - started)


def bench_score(page: BenchPage, reading: Reading, ngram: int = 1) -> PageScore:
    """Token overlap of one reading with the page's ground truth."""
    precision, recall, f1 = overlap(page.truth, reading.text, ngram)
    return PageScore(page.key, precision, recall, f1, reading.seconds, reading.error)


def score_predictions(
    pages: Sequence[BenchPage], predictions: dict[str, str], ngram: int = 1
) -> BenchResult:
    """Score stored predictions (another extractor's output) with the same metric."""
    scores = []
    for page in pages:
        precision, recall, f1 = overlap(page.truth, predictions.get(page.key, ""), ngram)
        scores.append(PageScore(page.key, precision, recall, f1, 0.0))
    return BenchResult(tuple(scores), 0.0)


def _stored_predictions(corpus: Path) -> Iterator[tuple[str, dict[str, str]]]:
    for path in sorted((corpus / "output").glob("*.json.gz")):
        data = json.loads(gzip.decompress(path.read_bytes()))
        # Some files wrap the predictions as {"version": ..., "output": {...}}.
        rows = data["output"] if set(data) == {"version", "output"} else data
        name = path.name.removesuffix(".json.gz")
        yield name, {key: row.get("articleBody") or "" for key, row in rows.items()}


@dataclass(frozen=True)
class MetaGold:
    """A page's metadata gold; an empty field (no title, no author, no day) is not scored."""

    title: str
    authors: tuple[str, ...]
    day: date | None


@dataclass(frozen=True)
class EvalPage:
    """One trafilatura_eval page: snippets that must (``wanted``) and must not appear."""

    url: str
    html: bytes
    wanted: tuple[str, ...]
    unwanted: tuple[str, ...]
    gold: MetaGold | None


_GOLD_DAY = re.compile(r"(\d{4})-(\d{1,2})[-.](\d{1,2})")


def parse_day(value: str | None) -> date | None:
    """``YYYY-MM-DD`` -> date; None if there is none.

    The gold has a few slips that are still one day: ``2022-11-1``, ``2019-05.22`` and,
    twice, month and day swapped (``2022-29-11``).
    """
    match = _GOLD_DAY.match(value or "")
    if not match:
        return None
    year, month, day = map(int, match.groups())
    return date(year, month, day) if month <= 12 else date(year, day, month)


def load_eval(corpus: Path = EVAL_CORPUS, limit: int | None = None) -> list[EvalPage]:
    """The eval pages in a stable order (sorted by URL), the first ``limit`` if given."""
    records = json.loads((corpus / "evaldata.json").read_text(encoding="utf-8"))
    return [_eval_page(corpus, url, records[url]) for url in sorted(records)[:limit]]


def _eval_page(corpus: Path, url: str, record: dict[str, Any]) -> EvalPage:
    gold = None
    if "title" in record:
        author = record.get("author") or ()
        gold = MetaGold(
            title=record["title"] or "",
            authors=gold_names(author),
            day=parse_day(record.get("date")),
        )
    return EvalPage(
        url=url,
        html=lzma.decompress((corpus / "html" / f"{record['file']}.xz").read_bytes()),
        wanted=tuple(record["with"]),
        unwanted=tuple(record["without"]),
        gold=gold,
    )


def gold_names(author: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The names a gold author field lists: "A and B", "A; B", "A & B" and "A und B" are two
    names, each of which must be in the byline (ours writes "A, B"), not one string."""
    fields = (author,) if isinstance(author, str) else tuple(author)
    return tuple(
        name.strip() for field in fields for name in _NAME_JOINS.split(field) if name.strip()
    )


_NAME_JOINS = re.compile(r"\s*;\s*|\s+(?:and|und|&)\s+", re.IGNORECASE)


def _collapsed(text: str | None) -> str:
    return " ".join((text or "").split())


def snippets_right(page: EvalPage, text: str) -> int:
    """How many of the page's snippets ``text`` gets right (wanted found, unwanted absent)."""
    body = _collapsed(text)
    found = sum(_collapsed(snippet) in body for snippet in page.wanted)
    absent = sum(_collapsed(snippet) not in body for snippet in page.unwanted)
    return found + absent


def author_matches(found: str | None, authors: tuple[str, ...]) -> bool:
    """Every gold name appears in the byline found, ignoring case and runs of whitespace.

    Lenient on purpose: a byline is one string ("Jane Doe, Staff Writer", "A; B") where the
    gold lists bare names, and this is the measure issue 15's figures were taken with
    (about 62% today; exact equality gives 52%).
    """
    byline = _collapsed(found).casefold()
    return bool(byline) and all(_collapsed(name).casefold() in byline for name in authors)


def meta_matches(gold: MetaGold, reading: Reading) -> tuple[bool | None, bool | None, bool | None]:
    """(title, author, day) of ``reading`` right against ``gold``; None where gold has none.

    Titles compare exactly after whitespace normalization; the day is the page's own
    (``local_day``).
    """
    return (
        _collapsed(reading.title) == _collapsed(gold.title) if gold.title.strip() else None,
        author_matches(reading.author, gold.authors) if gold.authors else None,
        reading.published == gold.day if gold.day else None,
    )


@dataclass
class Tally:
    """One reader's running totals over both sets (mutable: it is filled page by page)."""

    reader: Reader
    snippets: int = 0
    right: int = 0
    # Title, author and day: pages with that gold, and pages right.
    meta_pages: list[int] = field(default_factory=lambda: [0, 0, 0])
    meta_right: list[int] = field(default_factory=lambda: [0, 0, 0])
    bench_scores: list[PageScore] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)
    refusals: int = 0

    def add_eval(self, page: EvalPage, reading: Reading) -> None:
        """Count one eval page's snippets and metadata."""
        self.snippets += len(page.wanted) + len(page.unwanted)
        self.right += snippets_right(page, reading.text)
        if page.gold is not None:
            for index, ok in enumerate(meta_matches(page.gold, reading)):
                if ok is not None:
                    self.meta_pages[index] += 1
                    self.meta_right[index] += ok
        self._add(page.url, reading)

    def add_benchmark(self, page: BenchPage, reading: Reading, ngram: int) -> None:
        """Score one benchmark page's token overlap."""
        self.bench_scores.append(bench_score(page, reading, ngram))
        self._add(page.url, reading)

    def _add(self, url: str, reading: Reading) -> None:
        self.seconds.append(reading.seconds)
        self.refusals += reading.refused
        if reading.crashed:
            self.crashes.append(f"{url}: {reading.error}")


def lost_page(url: str, readings: dict[str, Reading]) -> str | None:
    """``url`` and who found text where ours refused it, or None if ours did not lose it."""
    if not readings[OURS].refused:
        return None
    finders = [
        name for name, reading in readings.items() if len(_collapsed(reading.text)) >= FOUND_CHARS
    ]
    return f"{url} (found by {', '.join(finders)})" if finders else None


@dataclass(frozen=True)
class SetsToRun:
    """The pages of one bench run; an empty tuple skips that set."""

    eval_pages: tuple[EvalPage, ...] = ()
    bench_pages: tuple[BenchPage, ...] = ()
    ngram: int = 1


def _warm_up(chosen: Sequence[Reader]) -> None:
    """One untimed page per reader, so that no reader's first page pays the imports."""
    page = b"<html><body><article><p>" + b"Warm-up text for the bench. " * 20 + b"</p></article>"
    for reader in chosen:
        read_timed(reader, page + b"</body></html>", "http://127.0.0.1/warm-up")


def score_all(chosen: Sequence[Reader], sets: SetsToRun) -> tuple[list[Tally], list[str]]:
    """Every reader on every page of both sets: the tallies and the pages ours lost."""
    tallies = {reader.name: Tally(reader) for reader in chosen}
    lost: list[str] = []
    _warm_up(chosen)
    for page in sets.eval_pages:
        readings = {r.name: read_timed(r, page.html, page.url) for r in chosen}
        for name, reading in readings.items():
            tallies[name].add_eval(page, reading)
        lost.append(lost_page(page.url, readings) or "")
    for bench in sets.bench_pages:
        # The benchmark's pages are UTF-8 and its ground truth was made from them so.
        kind = "text/html; charset=utf-8"
        readings = {r.name: read_timed(r, bench.html, bench.url, kind) for r in chosen}
        for name, reading in readings.items():
            tallies[name].add_benchmark(bench, reading, sets.ngram)
        lost.append(lost_page(bench.url, readings) or "")
    return list(tallies.values()), [line for line in lost if line]


def _percent(right: int, total: int, applies: bool = True) -> str:
    if not applies:
        return "n/a"
    return f"{100 * right / total:.1f}%" if total else "-"


def table(tallies: Sequence[Tally]) -> list[str]:
    """The comparison table: one row per reader."""
    lines = [
        f"{'extractor':<22} {'accuracy':>8} {'title':>6} {'author':>6} {'date':>6} "
        f"{'F1':>6} {'ms/page':>7} {'crashes':>7} {'refused':>7}"
    ]
    for tally in tallies:
        meta = tally.reader.has_metadata
        title, author, day = tally.meta_right
        f1 = BenchResult(tuple(tally.bench_scores), 0.0).f1 if tally.bench_scores else None
        lines.append(
            f"{tally.reader.name:<22} "
            f"{f'{tally.right / tally.snippets:.3f}' if tally.snippets else '-':>8} "
            f"{_percent(title, tally.meta_pages[0]):>6} "
            f"{_percent(author, tally.meta_pages[1], meta):>6} "
            f"{_percent(day, tally.meta_pages[2], meta):>6} "
            f"{'-' if f1 is None else f'{f1:.3f}':>6} "
            f"{1000 * statistics.fmean(tally.seconds) if tally.seconds else 0:>7.0f} "
            f"{len(tally.crashes):>7} {tally.refusals:>7}"
        )
    return lines


def _line(name: str, result: BenchResult) -> str:
    return (
        f"{name:<20} precision={result.precision:.3f}  recall={result.recall:.3f}  "
        f"F1(mean per page)={result.f1:.3f}  F1(of means)={result.f1_of_means:.3f}"
    )


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="the benchmark's folder")
    parser.add_argument("--eval-corpus", type=Path, default=EVAL_CORPUS, help="trafilatura_eval")
    parser.add_argument("--set", choices=("eval", "benchmark", "both"), default="both")
    parser.add_argument("--only", choices=("ours",), help="'ours': skip the reference extractors")
    parser.add_argument("--limit", type=int, help="score only the first N pages of each set")
    parser.add_argument("--ngram", type=int, default=1, help="1: words (default); 4: shingles")
    parser.add_argument("--compare", action="store_true", help="also score output/*.json.gz")
    parser.add_argument("--worst", type=int, default=0, help="list our N lowest-F1 pages")
    return parser.parse_args(argv)


def _load_sets(args: argparse.Namespace) -> SetsToRun | str:
    """The pages asked for, or the message naming the corpus that is missing."""
    eval_pages: list[EvalPage] = []
    bench_pages: list[BenchPage] = []
    if args.set in ("eval", "both"):
        if not (args.eval_corpus / "evaldata.json").is_file():
            return f"trafilatura_eval corpus not found at {args.eval_corpus}"
        eval_pages = load_eval(args.eval_corpus, args.limit)
    if args.set in ("benchmark", "both"):
        if not (args.corpus / "ground-truth.json").is_file():
            return f"corpus not found at {args.corpus}"
        bench_pages = load_corpus(args.corpus, args.limit)
    return SetsToRun(tuple(eval_pages), tuple(bench_pages), args.ngram)


def _print_benchmark(args: argparse.Namespace, sets: SetsToRun, tallies: Sequence[Tally]) -> None:
    """The benchmark's precision/recall lines, our worst pages and the stored predictions."""
    unit = "words" if args.ngram == 1 else f"{args.ngram}-token shingles"
    print(f"\narticle_extraction_benchmark: {len(sets.bench_pages)} pages, scored on {unit}")
    for tally in tallies:
        print(_line(tally.reader.name, BenchResult(tuple(tally.bench_scores), 0.0)))
    ours = tallies[0].bench_scores
    for score in sorted(ours, key=lambda s: s.f1)[: args.worst]:
        print(f"  F1={score.f1:.3f} recall={score.recall:.3f} {score.key[:12]}")
    if args.compare:
        for name, predictions in _stored_predictions(args.corpus):
            print(_line(name, score_predictions(sets.bench_pages, predictions, args.ngram)))


def main(argv: Sequence[str] | None = None) -> int:
    """Print the comparison table, then crashes, lost pages and the benchmark's details."""
    args = _arguments(argv)
    sets = _load_sets(args)
    if isinstance(sets, str):
        print(sets, file=sys.stderr)
        return 2
    tallies, lost = score_all(readers(args.only == "ours"), sets)
    print(f"{len(sets.eval_pages)} trafilatura_eval pages, {len(sets.bench_pages)} benchmark pages")
    print("\n".join(table(tallies)))
    for tally in tallies:
        for crash in tally.crashes:
            print(f"  crash, {tally.reader.name}: {crash}")
    print(f"pages ours refused where another extractor found text: {len(lost)}")
    for line in lost:
        print(f"  lost {line}")
    if sets.bench_pages:
        _print_benchmark(args, sets, tallies)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
