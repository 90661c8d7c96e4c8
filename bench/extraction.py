"""Score our extractor on the article-extraction-benchmark corpus (181 real news pages).

For every page the extracted body is compared with the human ``articleBody`` as bags of
tokens with counts (``\\w+`` tokens, as the benchmark tokenizes): precision, recall and F1 per
page, then averaged. ``--ngram 4`` scores 4-token shingles instead, the benchmark's published
metric. ``--compare`` also scores the stored predictions of other extractors (``output/``) with
the same metric, as a sanity check of the scorer.

    python -m bench.extraction [--limit N] [--ngram 4] [--compare] [--worst 10]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from monitor.errors import ExtractError
from monitor.extract import Extractor, TrafilaturaExtractor

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "article_extraction_benchmark"

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
    scores = []
    for page in pages:
        page_started = time.perf_counter()
        error = None
        try:
            text = extractor.extract(page.html, page.url, "text/html; charset=utf-8").text
        except ExtractError as exc:
            text, error = "", str(exc)
        precision, recall, f1 = overlap(page.truth, text, ngram)
        elapsed = time.perf_counter() - page_started
        scores.append(PageScore(page.key, precision, recall, f1, elapsed, error))
    return BenchResult(tuple(scores), time.perf_counter() - started)


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


def _line(name: str, result: BenchResult) -> str:
    return (
        f"{name:<20} precision={result.precision:.3f}  recall={result.recall:.3f}  "
        f"F1(mean per page)={result.f1:.3f}  F1(of means)={result.f1_of_means:.3f}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Print precision, recall, F1, failures and time for our extractor on the corpus."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--limit", type=int, help="score only the first N pages (by id)")
    parser.add_argument("--ngram", type=int, default=1, help="1: words (default); 4: shingles")
    parser.add_argument("--compare", action="store_true", help="also score output/*.json.gz")
    parser.add_argument("--worst", type=int, default=0, help="list the N lowest-F1 pages")
    args = parser.parse_args(argv)
    if not (args.corpus / "ground-truth.json").is_file():
        print(f"corpus not found at {args.corpus}", file=sys.stderr)
        return 2

    pages = load_corpus(args.corpus, args.limit)
    result = run(TrafilaturaExtractor(), pages, args.ngram)
    unit = "words" if args.ngram == 1 else f"{args.ngram}-token shingles"
    print(f"{len(pages)} pages, scored on {unit}")
    print(_line("newsmonitor", result))
    slowest = max(result.scores, key=lambda s: s.seconds)
    print(
        f"failures={len(result.failures)}  total={result.seconds:.1f}s  "
        f"per page={result.seconds / max(len(pages), 1) * 1000:.0f}ms  "
        f"slowest={slowest.seconds:.2f}s ({slowest.key[:12]})"
    )
    for failure in result.failures:
        print(f"  failed {failure.key[:12]}: {failure.error}")
    for score in sorted(result.scores, key=lambda s: s.f1)[: args.worst]:
        print(f"  F1={score.f1:.3f} recall={score.recall:.3f} {score.key[:12]}")
    if args.compare:
        for name, predictions in _stored_predictions(args.corpus):
            print(_line(name, score_predictions(pages, predictions, args.ngram)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
