"""Seed baselines: loading them from the seeds folder, linking articles to them, measuring drift.

A seed is the baseline text of a story the user follows: one ``.txt`` or ``.md`` document per
story, with optional TOML front matter between two ``+++`` lines::

    +++
    title = "El Salvador offers to jail US deportees"
    url = "https://example.com/news/el-salvador-prison-offer"  # links that page by address
    feeds = ["world"]         # only articles of these feeds may link (default: any feed)
    match = 0.6               # this seed's containment threshold (default 0.50)
    ignore = ["^Watch NBS news on YouTube.*$"]  # removed from the seed's text
    +++
    The body: in a .txt file each non-empty line is a paragraph; a .md file is Markdown.

Linking an article version to a seed (``SeedIndex.match``) goes by address first (the seed's
``url`` equals the article's URL or canonical URL), then by content in two steps:

1. Candidates: a datasketch ``MinHashLSH`` over the seeds' 3-word shingles (casefolded runs
   of letters and digits, hashed once with numpy and fed to ``MinHash.update_batch``), with
   32 permutations in 32 bands of one row. One row per band makes the index
   containment-friendly: a seed becomes a candidate when any of its 32 minimum hashes equals
   the article's, with probability 1 - (1 - J)^32 for Jaccard index J: 0.81 at J = 0.05, 0.97
   at J = 0.10. A shortened version (the article inside the seed) or a republication in page
   chrome (the seed inside the article) has a low Jaccard index whenever the sizes differ
   (0.18 for the seed's first three paragraphs) and still comes out. Unrelated articles share
   about 0.5% of their shingles with a seed ("one of the", "the united states"), so an
   article meets about two candidates among 100 seeds, each then checked exactly. Measured
   alternatives: ``MinHashLSH`` tuned for J >= 0.2 (28 bands of 2) lost the shortened
   versions; ``MinHashLSHEnsemble`` at containment 0.3 found everything but took 0.6 ms a
   query against 0.1 ms here.
2. Exact verification of the candidates, against the shingle sets and word frequencies kept
   at index build:

   ===========================  =========  ==============================================
   measure                      threshold  catches
   ===========================  =========  ==============================================
   containment of the seed      0.50       republications and rewrites (seed in article)
   containment of the article   0.60       shortened versions (article in seed)
   Jaccard                      0.50       near-identical texts
   TF-IDF cosine                0.70       heavy rewording (30-40% of the words replaced)
   ===========================  =========  ==============================================

   TF-IDF is over casefolded words with sublinear term frequency (1 + ln n) and smoothed IDF
   from the seeds plus the article. A candidate passes when one measure reaches its threshold
   (``Seed.match`` replaces the containment-of-the-seed one). The best passing candidate
   (highest passing value, then highest sum of all four) links when, on at least one measure
   it passes, it leads every other candidate by ``margin`` (0.10). Two seeds of nearly the
   same text make the link a coin toss, so the article links to neither; a seed that is one
   part of another does not block the whole (both lie inside the article, but only the whole
   one covers it: the lead shows on Jaccard and containment of the article). The last reason
   of a link names the measure that led, by how much, and the runner-up. Articles under 40
   words never link by content: too few shingles to tell a quotation from a version. Seeds
   restricted to ``feeds`` only ever link articles of those feeds, by address or by content.

Calibration (``python -m bench.seeds``; tests/test_seeds.py checks the same cases), on the El
Salvador seed. Positives: republished inside page chrome, containment of the seed 1.00; a new
intro and two paragraphs reworded, 0.86 (cosine 0.91); the first three paragraphs,
containment of the article 1.00; with 20% of the words replaced at random, containment 0.56
and cosine 0.86; 30% and 40% link by cosine alone (0.80, 0.73). Negatives: the 181 article
bodies of the extraction benchmark, the demo newsroom's seven other stories and four "same
topic, different article" texts (other reports on Bukele, Rubio and deportations sharing
names and figures, one quoting the seed's key sentence word for word) reach at most 0.04
containment of the seed, 0.16 containment of the article, 0.03 Jaccard and 0.38 cosine.
Each threshold sits well inside that gap. Against 100 seeds, no corpus body links to another
(0 of 203 negatives), every positive links (102 of 102, edited corpus bodies included), and
the smallest margin of a true link is 0.69.

Drift (``compute_drift``) compares a linked version with its seed: word similarity, the
sentences added, removed and edited (``drift_sentences`` lists them), and the figures and
quotations that one has and the other lacks.
"""

from __future__ import annotations

import math
import re
import tomllib
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.classify import numbers_in, quotations_in
from monitor.diff import align_sentences, diff_texts
from monitor.errors import ConfigError
from monitor.models import Drift, Seed, SeedMatch, SentenceDiff, SentenceStatus
from monitor.normalize import normalize_text, normalize_url

if TYPE_CHECKING:
    import numpy as np
    from datasketch import MinHash

__all__ = [
    "MatchParams",
    "SeedIndex",
    "compute_drift",
    "drift_sentences",
    "load_seeds",
    "parse_seed",
]

SEED_SUFFIXES = (".txt", ".md")
URL_REASON = "url matches the seed's url"

_FRONT_MATTER = "+++"
_KEY_TYPES: dict[str, str] = {
    "title": "a string",
    "url": "a string",
    "feeds": "a list of strings",
    "match": "a number from 0 to 1",
    "ignore": "a list of regular expressions",
}

# --- loading ------------------------------------------------------------------------------


def load_seeds(directory: str | Path, ignore: Sequence[str] = ()) -> list[Seed]:
    """Every seed document (*.txt, *.md) in a folder, sorted by file name; [] if it is missing.

    ``ignore`` regexes apply to every seed's text, before the seed's own ``ignore``.
    """
    folder = Path(directory)
    if not folder.is_dir():
        return []
    _check_patterns(ignore, "ignore", str(folder))
    files = sorted(
        (path for path in folder.iterdir() if path.suffix in SEED_SUFFIXES and path.is_file()),
        key=lambda path: path.name,
    )
    seeds: list[Seed] = []
    seen: dict[str, Path] = {}
    for path in files:
        if path.stem in seen:
            raise ConfigError(f"{path}: seed id {path.stem!r} is also used by {seen[path.stem]}")
        seen[path.stem] = path
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the seed: {exc.strerror or exc}") from exc
        try:
            document = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: not valid UTF-8 (byte {exc.start}: {exc.reason})") from exc
        seeds.append(parse_seed(document, path, ignore))
    return seeds


def parse_seed(document: str, path: str | Path, ignore: Sequence[str] = ()) -> Seed:
    """One seed from its document text; ``path`` gives the id (stem) and the format (suffix)."""
    source = Path(path)
    meta, body = _split_front_matter(document, str(source))
    own_ignore = meta.get("ignore", ())
    title: str | None = meta.get("title")
    if source.suffix == ".md":
        heading, paragraphs = _markdown_paragraphs(body)
        title = title if "title" in meta else heading
    else:
        paragraphs = [line.strip() for line in body.splitlines() if line.strip()]
    text = normalize_text("\n\n".join(paragraphs), (*ignore, *own_ignore))
    if not text:
        raise ConfigError(f"{source}: the seed has no text (after its ignore patterns)")
    url = meta.get("url")
    return Seed(
        id=source.stem,
        path=str(source),
        text=text,
        title=title,
        url=normalize_url(url) if url else None,
        feeds=tuple(meta.get("feeds", ())),
        match=meta.get("match"),
        # Every pattern applied to the text, global ones first: drift applies them to the
        # article too, so the two texts are compared on the same terms.
        ignore=(*ignore, *own_ignore),
    )


def _split_front_matter(document: str, source: str) -> tuple[dict[str, Any], str]:
    """The validated front matter (empty without one) and the body after it."""
    lines = document.splitlines(keepends=True)
    if not lines or lines[0].strip() != _FRONT_MATTER:
        return {}, document
    closing = next((i for i in range(1, len(lines)) if lines[i].strip() == _FRONT_MATTER), None)
    if closing is None:
        raise ConfigError(f"{source}: front matter opened with '+++' is never closed")
    try:
        meta = tomllib.loads("".join(lines[1:closing]))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: front matter is not valid TOML: {exc}") from exc
    for key, value in meta.items():
        if key not in _KEY_TYPES:
            raise ConfigError(f"{source}: front matter key {key!r}: unknown key")
        if not _valid_value(key, value):
            raise ConfigError(
                f"{source}: front matter key {key!r}: must be {_KEY_TYPES[key]}, got {value!r}"
            )
    if "ignore" in meta:
        _check_patterns(meta["ignore"], "front matter key 'ignore'", source)
    return meta, "".join(lines[closing + 1 :])


def _valid_value(key: str, value: object) -> bool:
    if key in ("title", "url"):
        return isinstance(value, str) and bool(value.strip())
    if key in ("feeds", "ignore"):
        return isinstance(value, list) and all(isinstance(v, str) and v for v in value)
    # bool is an int to Python, but ``match = true`` is a mistake, not a threshold of 1.
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1


def _check_patterns(patterns: Iterable[str], key: str, source: str) -> None:
    for pattern in patterns:
        try:
            re.compile(pattern, re.MULTILINE)
        except re.error as exc:
            raise ConfigError(f"{source}: {key}: invalid regex {pattern!r}: {exc}") from exc


# Markdown, minimally: enough that a seed written in Markdown reads as the same words as its
# plain-text twin. Inline markup is unwrapped, block markers dropped, soft-wrapped lines
# joined into their paragraph (Markdown's own rule), so sentences are not cut at line ends.
_MD_H1 = re.compile(r"#\s+(.+?)(?:\s+#+)?\s*")
_MD_HEADING = re.compile(r"#{1,6}\s+(.+?)(?:\s+#+)?\s*")
_MD_RULE = re.compile(r"(?:[-=*_]\s*){3,}")  # horizontal rules and setext underlines
_MD_BLOCK_MARK = re.compile(r"^(?:>\s?)+|^[-*+]\s+")
_MD_REFERENCE = re.compile(r"\[[^\]]+\]:\s*\S+.*")
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\[[^\]]*\])")
_MD_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_MD_EM_STAR = re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])")
_MD_EM_UNDERSCORE = re.compile(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)")
_MD_CODE = re.compile(r"`([^`]+)`")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>])")
_ESCAPED_BASE = 0xE000
_UNESCAPE = {_ESCAPED_BASE + ord(c): c for c in "\\`*_{}[]()#+-.!>"}


def _markdown_paragraphs(body: str) -> tuple[str | None, list[str]]:
    """The leading level-1 heading (the document's title) and the plain-text paragraphs."""
    lines = [line.strip() for line in body.splitlines()]
    first = next((i for i, line in enumerate(lines) if line), None)
    heading = None
    # The headline is not body text: an article's extracted text never starts with it.
    if first is not None and (h1 := _MD_H1.fullmatch(lines[first])):
        heading = _markdown_inline(h1.group(1))
        lines = lines[first + 1 :]
    paragraphs: list[str] = []
    current: list[str] = []
    for line in [*lines, ""]:
        is_heading = _MD_HEADING.fullmatch(line)
        starts_block = bool(is_heading) or bool(re.match(r"[-*+]\s+|>", line))
        if not line or _MD_RULE.fullmatch(line) or _MD_REFERENCE.fullmatch(line) or starts_block:
            if current:
                paragraphs.append(" ".join(current))
            current = []
        if is_heading:
            paragraphs.append(_markdown_inline(is_heading.group(1)))
        elif line and not _MD_RULE.fullmatch(line) and not _MD_REFERENCE.fullmatch(line):
            current.append(_markdown_inline(_MD_BLOCK_MARK.sub("", line)))
    return heading, [p for p in paragraphs if p.strip()]


def _markdown_inline(text: str) -> str:
    # Escaped characters hide in the private use area until the markup is gone.
    text = _MD_ESCAPE.sub(lambda m: chr(_ESCAPED_BASE + ord(m.group(1))), text)
    text = _MD_IMAGE.sub("", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_CODE.sub(r"\1", text)
    text = _MD_STRONG.sub(r"\2", text)
    text = _MD_EM_STAR.sub(r"\1", text)
    text = _MD_EM_UNDERSCORE.sub(r"\1", text)
    return text.translate(_UNESCAPE).strip()


# --- matching -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MatchParams:
    """Thresholds and sketch sizes for linking articles to seeds by content."""

    seed_containment: float = 0.5  # the main threshold; a seed's ``match`` replaces it
    article_containment: float = 0.6
    jaccard: float = 0.5
    cosine: float = 0.7
    margin: float = 0.1  # the lead over every other candidate, on one passing measure
    min_words: int = 40  # shorter articles (and seeds) never link by content
    shingle_words: int = 3
    num_perm: int = 32
    bands: int = 32  # rows per band = num_perm // bands

    def __post_init__(self) -> None:
        for name in ("seed_containment", "article_containment", "jaccard", "cosine", "margin"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.shingle_words < 1 or self.min_words < 0:
            raise ValueError("shingle_words must be positive and min_words not negative")
        if self.bands < 1 or self.num_perm % self.bands:
            raise ValueError("bands must divide num_perm")


@dataclass(frozen=True)
class _Measures:
    """The exact similarity of one seed and one article."""

    seed_containment: float
    article_containment: float
    jaccard: float
    cosine: float

    def value(self, name: str) -> float:
        return float(getattr(self, name))


# (attribute, label in reasons), in the order reasons list them.
_MEASURES: tuple[tuple[str, str], ...] = (
    ("seed_containment", "containment of the seed"),
    ("article_containment", "containment of the article"),
    ("jaccard", "jaccard"),
    ("cosine", "tf-idf cosine"),
)
_LABELS = dict(_MEASURES)


class _Fingerprint:
    """What matching needs of one text: word count, shingle hashes and term frequencies."""

    def __init__(self, text: str, shingle_words: int) -> None:
        import numpy as np  # loaded only where seeds are matched

        words = _WORD.findall(text.casefold())
        self.words = len(words)
        # crc32 is stable across processes (unlike ``hash``) and runs in C over the list.
        hashes = map(zlib.crc32, map(str.encode, words))
        self.word_hashes = np.fromiter(hashes, np.uint64, len(words))
        self.shingles = _shingles(self.word_hashes, shingle_words)

    @cached_property
    def terms(self) -> tuple[np.ndarray, np.ndarray]:
        """Sorted unique word hashes and their sublinear frequencies, 1 + ln(count)."""
        import numpy as np  # loaded only where seeds are matched

        # Only texts that meet a candidate need them. Words are told apart by their crc32:
        # a rare collision merges two words' weights, too little to move a cosine.
        terms, counts = np.unique(self.word_hashes, return_counts=True)
        return terms, 1 + np.log(counts)


@dataclass(frozen=True)
class _IndexedSeed:
    seed: Seed
    fingerprint: _Fingerprint
    terms: np.ndarray  # sorted unique word hashes
    tf: np.ndarray  # their sublinear frequencies
    idf: np.ndarray  # their IDF over the seeds alone
    norm_squared: float  # of the seed's TF-IDF vector with that IDF


@dataclass(frozen=True)
class _Weights:
    """An article's TF-IDF vector: terms, IDF with the article counted, weights, norm."""

    terms: np.ndarray
    idf: np.ndarray
    weights: np.ndarray
    norm_squared: float


_WORD = re.compile(r"\w+")
# Odd 64-bit multipliers (golden ratio and xxhash primes) that mix word hashes into a shingle.
_MIXERS = (
    *(0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5),
    *(0x85EBCA77C2B2AE63, 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB),
)


class SeedIndex:
    """Seeds prepared for matching: URLs, shingle sets, MinHash LSH and document frequencies."""

    def __init__(self, seeds: Iterable[Seed], params: MatchParams = MatchParams()) -> None:
        import numpy as np  # loaded only where seeds are matched

        if params.shingle_words > len(_MIXERS):
            raise ValueError(f"shingle_words must be at most {len(_MIXERS)}")
        self.params = params
        self.seeds: tuple[Seed, ...] = tuple(seeds)
        self._by_url: dict[str, Seed] = {}
        for seed in self.seeds:
            if seed.url:
                self._by_url.setdefault(normalize_url(seed.url), seed)
        # datasketch pulls in scipy (a third of a second): imported only when seeds exist.
        from datasketch import MinHash, MinHashLSH

        # Every MinHash is a copy of this one, so they share their permutations. Shingles
        # arrive hashed: ``int`` passes them through at C speed.
        self._template = MinHash(num_perm=params.num_perm, hashfunc=int)
        self._lsh = MinHashLSH(
            num_perm=params.num_perm, params=(params.bands, params.num_perm // params.bands)
        )
        fingerprints = [_Fingerprint(seed.text, params.shingle_words) for seed in self.seeds]
        # Document frequencies over the seeds; the article matched counts as one more document.
        self._documents = len(self.seeds) + 1
        if fingerprints:
            every_term = np.concatenate([f.terms[0] for f in fingerprints])
            self._vocabulary, self._frequency = np.unique(every_term, return_counts=True)
        else:
            self._vocabulary = np.zeros(0, dtype=np.uint64)
            self._frequency = np.zeros(0, dtype=np.int64)
        self._indexed: list[_IndexedSeed] = []
        for seed, fingerprint in zip(self.seeds, fingerprints, strict=True):
            if fingerprint.words < params.min_words or not len(fingerprint.shingles):
                continue  # linked by URL only
            terms, tf = fingerprint.terms
            idf = _idf(self._documents, self._frequencies(terms))
            norm = float(np.sum((tf * idf) ** 2))
            self._lsh.insert(len(self._indexed), self._minhash(fingerprint.shingles))
            self._indexed.append(_IndexedSeed(seed, fingerprint, terms, tf, idf, norm))

    def __len__(self) -> int:
        return len(self.seeds)

    def match(
        self,
        text: str,
        url: str | None = None,
        canonical_url: str | None = None,
        feed: str | None = None,
    ) -> SeedMatch | None:
        """The seed this article version belongs to, with the reasons; None if none clearly."""
        for address in (url, canonical_url):
            seed = self._by_url.get(normalize_url(address)) if address else None
            if seed is not None and _accepts(seed, feed):
                return SeedMatch(seed.id, 1.0, (URL_REASON,))
        if not self._indexed:
            return None
        article = _Fingerprint(text, self.params.shingle_words)
        if article.words < self.params.min_words or not len(article.shingles):
            return None
        candidates = [
            self._indexed[key]
            for key in self._lsh.query(self._minhash(article.shingles))
            if _accepts(self._indexed[key].seed, feed)
        ]
        if not candidates:
            return None
        weights = self._weights(article)
        measured = [(entry, self._measure(entry, article, weights)) for entry in candidates]
        return self._decide(measured)

    def candidates(self, text: str) -> list[str]:
        """Ids of the seeds the LSH proposes for a text (before verification), for diagnostics."""
        article = _Fingerprint(text, self.params.shingle_words)
        if not len(article.shingles) or not self._indexed:
            return []
        keys = self._lsh.query(self._minhash(article.shingles))
        return sorted(self._indexed[key].seed.id for key in keys)

    def measure(self, seed_id: str, text: str) -> dict[str, float]:
        """Every exact measure of a text against one indexed seed, for calibration and reports."""
        entry = next((e for e in self._indexed if e.seed.id == seed_id), None)
        if entry is None:
            raise KeyError(seed_id)
        article = _Fingerprint(text, self.params.shingle_words)
        if not len(article.shingles):
            return {name: 0.0 for name, _ in _MEASURES}
        measures = self._measure(entry, article, self._weights(article))
        return {name: measures.value(name) for name, _ in _MEASURES}

    def _decide(self, measured: list[tuple[_IndexedSeed, _Measures]]) -> SeedMatch | None:
        """Link to the best passing candidate when it leads every other one by the margin."""
        ranked: list[tuple[tuple[float, float], _IndexedSeed, _Measures, list[str]]] = []
        for entry, measures in measured:
            thresholds = self._thresholds(entry.seed)
            passing = [name for name, _ in _MEASURES if measures.value(name) >= thresholds[name]]
            if passing:
                # Best passing value first; all four measures together break ties, so the
                # whole seed beats a seed that is one of its paragraphs.
                strength = max(measures.value(name) for name in passing)
                total = sum(measures.value(name) for name, _ in _MEASURES)
                ranked.append(((strength, total), entry, measures, passing))
        if not ranked:
            return None
        _, entry, best, passing = max(ranked, key=lambda item: (item[0], item[1].seed.id))
        others = [(e.seed.id, m) for e, m in measured if e is not entry]
        # The lead on each passing measure over the closest other candidate (passing or not);
        # the link needs one clear lead, else a second seed fits about as well.
        leads: list[tuple[float, float, str, str | None]] = []
        for name in passing:
            value = best.value(name)
            runner = max(others, key=lambda other: other[1].value(name), default=None)
            if runner is None:
                leads.append((value, value, name, None))
            else:
                leads.append((value - runner[1].value(name), value, name, runner[0]))
        lead, score, decider, runner_id = max(leads)
        if lead < self.params.margin:
            return None
        thresholds = self._thresholds(entry.seed)
        reasons = [
            f"{_LABELS[name]} {best.value(name):.2f} >= {thresholds[name]:.2f}" for name in passing
        ]
        against = f"over {runner_id}" if runner_id else "(no other candidate)"
        reasons.append(
            f"margin {lead:.2f} on {_LABELS[decider]} {against} >= {self.params.margin:.2f}"
        )
        return SeedMatch(entry.seed.id, round(score, 4), tuple(reasons))

    def _thresholds(self, seed: Seed) -> dict[str, float]:
        params = self.params
        return {
            "seed_containment": params.seed_containment if seed.match is None else seed.match,
            "article_containment": params.article_containment,
            "jaccard": params.jaccard,
            "cosine": params.cosine,
        }

    def _measure(self, entry: _IndexedSeed, article: _Fingerprint, weights: _Weights) -> _Measures:
        seed_shingles = entry.fingerprint.shingles
        common = len(_common(seed_shingles, article.shingles)[0])
        union = len(seed_shingles) + len(article.shingles) - common
        return _Measures(
            seed_containment=common / len(seed_shingles),
            article_containment=common / len(article.shingles),
            jaccard=common / union if union else 0.0,
            cosine=_cosine(entry, weights),
        )

    def _frequencies(self, terms: np.ndarray) -> np.ndarray:
        """How many seeds contain each of the (sorted, unique) terms."""
        import numpy as np  # loaded only where seeds are matched

        found = np.zeros(len(terms), dtype=np.int64)
        if not len(self._vocabulary):
            return found
        at = np.minimum(np.searchsorted(self._vocabulary, terms), len(self._vocabulary) - 1)
        known = self._vocabulary[at] == terms
        found[known] = self._frequency[at[known]]
        return found

    def _weights(self, article: _Fingerprint) -> _Weights:
        """The article's TF-IDF vector, its own presence added to the document frequencies."""
        import numpy as np  # loaded only where seeds are matched

        terms, tf = article.terms
        idf = _idf(self._documents, self._frequencies(terms) + 1)
        weights = tf * idf
        return _Weights(terms, idf, weights, float(np.dot(weights, weights)))

    def _minhash(self, shingles: np.ndarray) -> MinHash:
        import numpy as np  # loaded only where seeds are matched

        minhash = self._template.copy()
        # The top 32 bits: MinHash's default permutation scheme works on 32-bit values.
        minhash.update_batch((shingles >> np.uint64(32)).tolist())
        return minhash


def _cosine(entry: _IndexedSeed, article: _Weights) -> float:
    """TF-IDF cosine of a seed and an article over words."""
    import numpy as np  # loaded only where seeds are matched

    at_seed, at_article = _common(entry.terms, article.terms)
    if not len(at_seed):
        return 0.0
    # The shared words' IDF counts the article; the seed's norm is corrected for them.
    tf = entry.tf[at_seed]
    shared_idf = article.idf[at_article]
    dot = float(np.dot(tf * shared_idf, article.weights[at_article]))
    seed_norm = entry.norm_squared + float(
        np.sum(tf * tf * (shared_idf**2 - entry.idf[at_seed] ** 2))
    )
    if dot <= 0 or seed_norm <= 0 or article.norm_squared <= 0:
        return 0.0
    return min(1.0, dot / math.sqrt(seed_norm * article.norm_squared))


def _common(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the values two sorted unique arrays share, in each of them."""
    import numpy as np  # loaded only where seeds are matched

    if not len(first) or not len(second):
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    # A binary search per value of ``second``: no concatenation and re-sorting as in
    # ``np.intersect1d``, which cost more than the rest of the verification.
    at = np.minimum(np.searchsorted(first, second), len(first) - 1)
    shared = first[at] == second
    return at[shared], np.flatnonzero(shared)


def _shingles(word_hashes: np.ndarray, size: int) -> np.ndarray:
    """Sorted unique 64-bit hashes of every run of ``size`` consecutive words."""
    import numpy as np  # loaded only where seeds are matched

    count = len(word_hashes) - size + 1
    if count <= 0:
        return np.zeros(0, dtype=np.uint64)
    mixed = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):  # multiplication modulo 2**64 is the point
        for offset in range(size):
            mixed += word_hashes[offset : offset + count] * np.uint64(_MIXERS[offset])
        mixed ^= mixed >> np.uint64(29)  # bring the mixed high bits down for the low ones
    return np.unique(mixed)


def _idf(documents: int, frequency: np.ndarray) -> np.ndarray:
    """Smoothed inverse document frequency: never zero, so shared words still count a little."""
    import numpy as np  # loaded only where seeds are matched

    return np.log((1 + documents) / (1 + frequency)) + 1


def _accepts(seed: Seed, feed: str | None) -> bool:
    return not seed.feeds or feed in seed.feeds


# --- drift --------------------------------------------------------------------------------


def compute_drift(seed: Seed, text: str, timeout: float = 1.0) -> Drift:
    """How far an article version has moved from its seed: sentences, figures, quotations.

    The article text is normalized and stripped by the seed's ignore patterns first, like the
    seed's. ``sentences_edited`` counts sentences paired with a changed one, in place or
    moved; a sentence only moved is no drift. Figures and quotations compare as multisets: a figure
    quoted twice in the seed and once in the article was removed once.
    """
    article = _comparable(seed, text)
    diff = diff_texts(seed.text, article, timeout)
    edited = sum(1 for sentence in diff.sentences if _is_edit(sentence))
    numbers_added, numbers_removed = _multiset_changes(numbers_in(seed.text), numbers_in(article))
    quotes_added, quotes_removed = _multiset_changes(
        quotations_in(seed.text), quotations_in(article)
    )
    return Drift(
        seed_id=seed.id,
        similarity=diff.stats.similarity,
        sentences_added=diff.stats.sentences_added,
        sentences_removed=diff.stats.sentences_removed,
        sentences_edited=edited,
        numbers_added=numbers_added,
        numbers_removed=numbers_removed,
        quotes_added=quotes_added,
        quotes_removed=quotes_removed,
    )


def drift_sentences(seed: Seed, text: str, timeout: float = 1.0) -> tuple[SentenceDiff, ...]:
    """The seed's sentences the article added, removed, edited or moved, in reading order."""
    return tuple(
        sentence
        for sentence in align_sentences(seed.text, _comparable(seed, text), timeout)
        if sentence.status != SentenceStatus.UNCHANGED
    )


def _comparable(seed: Seed, text: str) -> str:
    """The article text normalized like the seed's, the seed's ignore patterns applied.

    The boilerplate a seed's patterns cut from it ("Watch NBS news on YouTube...") is cut
    from the article too, or every version would drift by that line.
    """
    return normalize_text(text, seed.ignore)


def _is_edit(sentence: SentenceDiff) -> bool:
    return sentence.status == SentenceStatus.EDITED or (
        sentence.status == SentenceStatus.MOVED and bool(sentence.ops)
    )


def _multiset_changes(
    old: Counter[str], new: Counter[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(in new but not old, in old but not new), each sorted, counting repeats."""
    return tuple(sorted((new - old).elements())), tuple(sorted((old - new).elements()))
