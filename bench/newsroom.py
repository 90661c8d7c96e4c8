"""A static newsroom on disk for the scale bench: many sites, each with a feed and its pages.

Usage::

    python -m bench.newsroom build DIR [--feeds 200] [--entries 25] [--seed 1]
                                       [--base-url http://127.0.0.1:8080]
                                       [--hosts 1] [--skew 0]
    python -m bench.newsroom edit DIR [--fraction 0.05] [--seed 2]

``build`` writes ``DIR/www`` (the web root: ``/site-NNN/feed.xml`` or ``atom.xml`` and
``/site-NNN/YYYY/MM/slug-N.html``) and ``DIR/manifest.json`` (what was built and every
edit since). Half the feeds are RSS 2.0, half Atom. Article pages look like a news site's:
a head with meta tags and JSON-LD, inline CSS, navigation, ad slots with inline scripts,
related and most-read links, a hydration-state script, and an ~800-word body; about 78 KB
each. All text comes from the word lists below, deterministically from the seed. With
``--hosts N`` the sites' links point to 127.0.0.1 ... 127.0.0.N (the latency bench's proxy
serves them all from the one web root); ``--skew`` puts that share of the sites on the first.

``edit`` changes a fraction of the articles (one sentence rewritten, one figure changed,
the page's modified date bumped), rewrites the feeds whose entries changed (an Atom
entry's ``<updated>``, an RSS description when the lede changed) and prints the URL of
every edited article. Files that did not change are not touched, so a web server's
validators (nginx's ETag is mtime and size) stay the same and a conditional GET gets 304.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

MANIFEST = "manifest.json"
WEB_ROOT = "www"
EPOCH = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)  # the first article's publication time
BODY_WORDS = 800

# Invented places, people and institutions: the newsroom never names a real one.
PLACES = (
    "Harrowford",
    "Kelmsby",
    "Ostervale",
    "Brindlemoor",
    "Tansbury",
    "Quellport",
    "Aldermere",
    "Fenwick Cross",
    "Rothwater",
    "Sallow Bay",
    "Dunmarrow",
    "Eastlake Vale",
    "Corrin Heath",
    "Maplestead",
    "Norhaven",
    "Pellingham",
    "Westerby",
    "Gorse Hill",
    "Linton Reach",
    "Varda",
)
FIRST_NAMES = (
    "Amara",
    "Jonas",
    "Priya",
    "Tomasz",
    "Helen",
    "Kwame",
    "Ines",
    "Rafael",
    "Mei",
    "Oskar",
    "Leila",
    "Declan",
    "Sofia",
    "Hamid",
    "Greta",
    "Nuno",
    "Yara",
    "Felix",
    "Anika",
    "Bruno",
)
LAST_NAMES = (
    "Okafor",
    "Lindqvist",
    "Marchetti",
    "Nakamura",
    "Brennan",
    "Haddad",
    "Kowalczyk",
    "Ferreira",
    "Osei",
    "Vandenberg",
    "Castellano",
    "Moreau",
    "Adeyemi",
    "Sorensen",
    "Petrov",
    "Quinlan",
    "Rahman",
    "Delacroix",
    "Ivanova",
    "Thornbury",
)
ROLES = (
    "chairs the finance committee",
    "leads the tenants' association",
    "runs a bakery on the high street",
    "teaches at the secondary school",
    "sits on the harbour board",
    "coordinates the volunteer fire brigade",
    "manages the regional bus depot",
    "represents the ward on the council",
    "directs the county archive",
    "studies urban drainage at the polytechnic",
)
SUBJECTS = (
    "the regional council",
    "the transport minister",
    "a spokesperson for the harbour authority",
    "local residents",
    "the opposition leader",
    "researchers at the polytechnic",
    "the planning office",
    "union representatives",
    "the health board",
    "the police",
    "the school district",
    "farmers in the valley",
    "the finance committee",
    "independent auditors",
    "the mayor",
    "environmental groups",
    "the water utility",
    "hospital managers",
    "the electoral commission",
    "shop owners on the high street",
    "the county court",
    "the fire service",
    "the port operator",
    "the housing trust",
)
VERBS = (
    "approved",
    "rejected",
    "postponed",
    "criticised",
    "announced",
    "reviewed",
    "defended",
    "questioned",
    "extended",
    "scaled back",
    "proposed",
    "delayed",
    "welcomed",
    "funded",
    "challenged",
    "published",
    "endorsed",
    "paused",
    "revised",
    "blocked",
)
OBJECTS = (
    "a plan to widen the northern ring road",
    "the budget for the new tram line",
    "a proposal to close two rural clinics",
    "the contract for waste collection",
    "new rules on short-term rentals",
    "a study of the flood defences",
    "the timetable for the harbour dredging",
    "a scheme to insulate older homes",
    "the merger of the two fire stations",
    "a ban on lorries in the old town",
    "plans for a second bridge over the river",
    "the sale of the former grain store",
    "a pilot of free buses for pensioners",
    "the rebuilding of the market hall",
    "a review of school catchment areas",
    "the lease of the municipal airfield",
    "a reservoir expansion in the hills",
    "a levy on tourist overnight stays",
)
CONNECTIVES = (
    "Earlier this month,",
    "On the same day,",
    "By contrast,",
    "According to the minutes,",
    "In a statement,",
    "Later that evening,",
    "At the hearing,",
    "Separately,",
    "Speaking to reporters,",
    "In written evidence,",
)
TAILS = (
    "after a debate lasting {n} hours",
    "despite objections from {subject}",
    "citing costs of {money}",
    "in a vote of {a} to {b}",
    "ahead of the {season} session",
    "according to documents released on {weekday}",
    "for the {ordinal} time since {year}",
    "with support from {n} of the {a} wards",
    "after {n} public meetings",
    "at an estimated cost of {money}",
    "following complaints from {subject}",
    "with {percent} percent of respondents in favour",
)
DETAILS = (
    "The figures show that {percent} percent of households in {place} would be affected.",
    "Officials said the work would take {n} months and employ about {m} people.",
    "The previous plan, drawn up in {year}, was abandoned after costs rose to {money}.",
    "About {m} residents signed a petition against the proposal within {n} days.",
    "The ward has seen its population grow by {percent} percent over the past decade.",
    "A consultation will run until the end of {month}, with {n} drop-in sessions.",
    "The authority expects to save {money} a year once the changes are in place.",
    "Traffic counts recorded {m} vehicles a day on the busiest stretch in {month}.",
    "The report lists {n} options and recommends the {ordinal} of them.",
    "Similar schemes in {place} and {place2} cut waiting times by {percent} percent.",
)
QUOTES = (
    "We have listened carefully and this is the fairest option on the table",
    "Nobody asked the people who actually live here",
    "The numbers simply do not add up, and they know it",
    "This has been promised for years and we intend to deliver it",
    "We will keep pressing until every question has an answer",
    "It is a first step, not the end of the conversation",
    "The costs have to be shared by everyone who benefits",
    "I have never seen a consultation handled so badly",
)
SECTIONS = (
    "Local",
    "Politics",
    "Business",
    "Transport",
    "Health",
    "Education",
    "Environment",
    "Housing",
    "Courts",
    "Sport",
    "Culture",
    "Opinion",
    "Weather",
    "Travel",
    "Science",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "March", "April", "June", "September", "October", "November")
SEASONS = ("spring", "summer", "autumn", "winter")
ORDINALS = ("second", "third", "fourth", "fifth")
_NUMBER = re.compile(r"\d[\d,.]*")


def _fill(template: str, rng: random.Random) -> str:
    values = {
        "n": rng.randint(2, 19),
        "m": f"{rng.randint(120, 9800):,}",
        "a": rng.randint(20, 40),
        "b": rng.randint(3, 19),
        "money": f"{rng.randint(2, 95)}.{rng.randint(1, 9)} million euros",
        "percent": rng.randint(3, 78),
        "year": rng.randint(2009, 2024),
        "season": rng.choice(SEASONS),
        "weekday": rng.choice(WEEKDAYS),
        "month": rng.choice(MONTHS),
        "ordinal": rng.choice(ORDINALS),
        "place": rng.choice(PLACES),
        "place2": rng.choice(PLACES),
        "subject": rng.choice(SUBJECTS),
    }
    return template.format(**values)


def _sentence(rng: random.Random) -> str:
    """One sentence of news prose; most carry at least one figure."""
    kind = rng.random()
    if kind < 0.45:
        text = (
            f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} "
            f"{_fill(rng.choice(TAILS), rng)}."
        )
        if rng.random() < 0.4:
            text = f"{rng.choice(CONNECTIVES)} {text}"
    elif kind < 0.8:
        text = _fill(rng.choice(DETAILS), rng)
    else:
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        text = f"\u201c{rng.choice(QUOTES)},\u201d said {name}, who {rng.choice(ROLES)}."
    return text[0].upper() + text[1:]


@dataclass(frozen=True)
class Story:
    """One article's content: headline, byline, section and paragraphs of sentences."""

    headline: str
    byline: str
    section: str
    paragraphs: tuple[tuple[str, ...], ...]

    @property
    def lede(self) -> str:
        return self.paragraphs[0][0]


def _headline(seed: int, site: int, entry: int) -> str:
    rng = random.Random(f"headline:{seed}:{site}:{entry}")
    text = f"{rng.choice(PLACES)}: {rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}"
    return text[0].upper() + text[1:]


def _story(seed: int, site: int, entry: int) -> Story:
    rng = random.Random(f"story:{seed}:{site}:{entry}")
    byline = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    paragraphs: list[tuple[str, ...]] = []
    words = 0
    while words < BODY_WORDS:
        sentences = tuple(_sentence(rng) for _ in range(rng.randint(2, 4)))
        words += sum(len(s.split()) for s in sentences)
        paragraphs.append(sentences)
    return Story(_headline(seed, site, entry), byline, rng.choice(SECTIONS), tuple(paragraphs))


def _edited(story: Story, seed: int, round_: int, site: int, entry: int) -> Story:
    """``story`` with one sentence rewritten and one figure changed, decided by the seeds."""
    rng = random.Random(f"edit:{seed}:{round_}:{site}:{entry}")
    sentences = [list(p) for p in story.paragraphs]
    places = [(p, s) for p, para in enumerate(sentences) for s in range(len(para))]
    p, s = rng.choice(places)
    old = sentences[p][s]
    new = _sentence(rng)
    while new == old:
        new = _sentence(rng)
    sentences[p][s] = new
    with_figures = [
        (q, t) for q, t in places if (q, t) != (p, s) and _NUMBER.search(sentences[q][t])
    ]
    if with_figures:
        q, t = rng.choice(with_figures)
        figures = list(_NUMBER.finditer(sentences[q][t]))
        figure = rng.choice(figures)
        digits = figure.group().rstrip(".,")
        changed = str(int(digits.replace(",", "").split(".")[0]) + rng.randint(1, 9))
        text = sentences[q][t]
        sentences[q][t] = text[: figure.start()] + changed + text[figure.start() + len(digits) :]
    return Story(story.headline, story.byline, story.section, tuple(map(tuple, sentences)))


@dataclass(frozen=True)
class Layout:
    """What was built: sizes, seed and the address the pages link to."""

    feeds: int
    entries: int
    seed: int
    base_url: str
    # Sites spread over the loopback addresses 127.0.0.1 ... 127.0.0.<hosts> (base_url's
    # port), for the latency bench (bench/latency.py); 1: every site on base_url.
    hosts: int = 1
    # The share of the sites on 127.0.0.1 (0: as many as on any other address): a newsroom
    # where one host carries a quarter of the articles has skew 0.25.
    skew: float = 0.0

    def site(self, n: int) -> str:
        return f"site-{n:04d}"

    def host(self, n: int) -> int:
        """Which of the ``hosts`` loopback addresses serves site ``n`` (1-based)."""
        if self.hosts == 1:
            return 1
        if self.skew:
            if int((n + 1) * self.skew) > int(n * self.skew):
                return 1
            others = n - int(n * self.skew)  # the sites so far not on the first address
            return 2 + others % (self.hosts - 1)
        return 1 + n % self.hosts

    def is_atom(self, n: int) -> bool:
        return n % 2 == 1

    def feed_path(self, n: int) -> str:
        return f"/{self.site(n)}/{'atom.xml' if self.is_atom(n) else 'feed.xml'}"

    def published(self, site: int, entry: int) -> datetime:
        return EPOCH + timedelta(minutes=17 * site + 53 * entry)

    def article_path(self, site: int, entry: int) -> str:
        when = self.published(site, entry)
        return f"/{self.site(site)}/{when:%Y/%m}/story-{entry:03d}.html"

    def url(self, path: str) -> str:
        base = self.base_url.rstrip("/")
        site = re.match(r"/site-(\d+)/", path) if self.hosts > 1 else None
        if site:  # on that site's address; shared paths (/img/) stay on base_url
            port = urlsplit(base).port
            base = f"http://127.0.0.{self.host(int(site[1]))}" + (f":{port}" if port else "")
        return base + path

    def articles(self) -> Iterator[tuple[int, int]]:
        for site in range(self.feeds):
            for entry in range(self.entries):
                yield site, entry


class Newsroom:
    """A built newsroom directory: its layout and the edit rounds applied so far."""

    def __init__(self, root: Path, layout: Layout, edits: dict[str, list[int]]) -> None:
        self.root = root
        self.layout = layout
        self.edits = edits  # "site/entry" -> the edit rounds applied, in order
        self._chrome: dict[int, SiteChrome] = {}

    @property
    def web_root(self) -> Path:
        return self.root / WEB_ROOT

    @classmethod
    def build(
        cls,
        root: Path,
        feeds: int = 200,
        entries: int = 25,
        seed: int = 1,
        base_url: str = "http://127.0.0.1:8080",
        hosts: int = 1,
        skew: float = 0.0,
    ) -> Newsroom:
        room = cls(root, Layout(feeds, entries, seed, base_url, hosts, skew), {})
        workers = min(os.cpu_count() or 1, max(1, feeds // 20))
        if workers > 1:
            chunks = [range(start, feeds, workers) for start in range(workers)]
            with ProcessPoolExecutor(workers) as pool:
                list(pool.map(_write_sites, [root] * workers, [room.layout] * workers, chunks))
        else:
            _write_sites(root, room.layout, range(feeds))
        room._save()
        return room

    @classmethod
    def load(cls, root: Path) -> Newsroom:
        data = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
        return cls(root, Layout(**data["layout"]), data["edits"])

    def feed_urls(self) -> list[str]:
        return [self.layout.url(self.layout.feed_path(n)) for n in range(self.layout.feeds)]

    def article_urls(self) -> list[str]:
        return [self.layout.url(self.layout.article_path(*key)) for key in self.layout.articles()]

    def story(self, site: int, entry: int) -> Story:
        story = _story(self.layout.seed, site, entry)
        for round_ in self.edits.get(f"{site}/{entry}", []):
            story = _edited(story, self.layout.seed, round_, site, entry)
        return story

    def modified(self, site: int, entry: int) -> datetime:
        rounds = self.edits.get(f"{site}/{entry}", [])
        published = self.layout.published(site, entry)
        return published + timedelta(hours=6 * rounds[-1]) if rounds else published

    def edit(self, fraction: float, seed: int) -> list[str]:
        """Edit ``fraction`` of the articles; the URLs of those edited."""
        keys = list(self.layout.articles())
        count = round(fraction * len(keys))
        round_ = seed
        chosen = sorted(random.Random(f"choose:{self.layout.seed}:{seed}").sample(keys, count))
        sites: set[int] = set()
        for site, entry in chosen:
            self.edits.setdefault(f"{site}/{entry}", []).append(round_)
            self._write_if_changed(self.layout.article_path(site, entry), self.page(site, entry))
            sites.add(site)
        for site in sorted(sites):
            self._write_if_changed(self.layout.feed_path(site), self.feed(site))
        self._save()
        return [self.layout.url(self.layout.article_path(*key)) for key in chosen]

    def page(self, site: int, entry: int) -> str:
        chrome = self._chrome.get(site) or self._chrome.setdefault(
            site, SiteChrome(self.layout, site)
        )
        return chrome.page(
            self.story(site, entry),
            entry,
            self.layout.published(site, entry),
            self.modified(site, entry),
            [(other, self.story_headline(site, other)) for other in _related(site, entry, self)],
        )

    def story_headline(self, site: int, entry: int) -> str:
        return _headline(self.layout.seed, site, entry)

    def feed(self, site: int) -> str:
        layout = self.layout
        name = f"The {PLACES[site % len(PLACES)]} Courier ({layout.site(site)})"
        home = layout.url(f"/{layout.site(site)}/")
        items = []
        for entry in reversed(range(layout.entries)):
            story = self.story(site, entry)
            link = escape(layout.url(layout.article_path(site, entry)))
            title, lede = escape(story.headline), escape(story.lede)
            published = layout.published(site, entry)
            if layout.is_atom(site):
                items.append(
                    f"  <entry>\n    <title>{title}</title>\n"
                    f'    <link rel="alternate" type="text/html" href="{link}"/>\n'
                    f"    <id>{link}</id>\n"
                    f"    <published>{published.isoformat()}</published>\n"
                    f"    <updated>{self.modified(site, entry).isoformat()}</updated>\n"
                    f"    <author><name>{escape(story.byline)}</name></author>\n"
                    f"    <summary>{lede}</summary>\n  </entry>\n"
                )
            else:
                items.append(
                    f"    <item>\n      <title>{title}</title>\n      <link>{link}</link>\n"
                    f'      <guid isPermaLink="true">{link}</guid>\n'
                    f"      <pubDate>{published:%a, %d %b %Y %H:%M:%S} +0000</pubDate>\n"
                    f"      <category>{story.section}</category>\n"
                    f"      <description>{lede}</description>\n    </item>\n"
                )
        if layout.is_atom(site):
            return (
                '<?xml version="1.0" encoding="utf-8"?>\n'
                '<feed xmlns="http://www.w3.org/2005/Atom">\n'
                f"  <title>{escape(name)}</title>\n  <id>{escape(home)}</id>\n"
                f'  <link rel="alternate" href="{escape(home)}"/>\n'
                f"  <updated>{layout.published(site, layout.entries - 1).isoformat()}</updated>\n"
                + "".join(items)
                + "</feed>\n"
            )
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0">\n  <channel>\n'
            f"    <title>{escape(name)}</title>\n    <link>{escape(home)}</link>\n"
            f"    <description>News from {PLACES[site % len(PLACES)]}</description>\n"
            + "".join(items)
            + "  </channel>\n</rss>\n"
        )

    def _write_if_changed(self, path: str, text: str) -> bool:
        file = self.web_root / path.lstrip("/")
        data = text.encode("utf-8")
        try:
            old = file.read_bytes()
        except FileNotFoundError:
            old = None
        if old == data:
            return False  # untouched: its mtime, and so its ETag, stay the same
        before = file.stat().st_mtime_ns if old is not None else None
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(data)
        if before is not None and file.stat().st_mtime_ns // 10**9 <= before // 10**9:
            # nginx's ETag has one-second mtime resolution: make sure the edit shows.
            later = (before // 10**9 + 1) * 10**9
            os.utime(file, ns=(later, later))
        return True

    def _save(self) -> None:
        data = {"layout": vars(self.layout), "edits": self.edits}
        (self.root / MANIFEST).write_text(json.dumps(data), encoding="utf-8")


def _write_sites(root: Path, layout: Layout, sites: Iterable[int]) -> None:
    room = Newsroom(root, layout, {})
    for site in sites:
        for entry in range(layout.entries):
            room._write_if_changed(layout.article_path(site, entry), room.page(site, entry))
        room._write_if_changed(layout.feed_path(site), room.feed(site))


def _related(site: int, entry: int, room: Newsroom) -> list[int]:
    count = room.layout.entries
    return sorted({(entry + step) % count for step in (1, 2, 3, 5, 8, 13)} - {entry})


class SiteChrome:
    """One site's page template: everything around the story, shared by its pages."""

    def __init__(self, layout: Layout, site: int) -> None:
        self.layout = layout
        self.site = site
        self.name = f"The {PLACES[site % len(PLACES)]} Courier"
        rng = random.Random(f"chrome:{layout.seed}:{site}")
        self.css = self._css(rng)
        self.nav = self._nav(rng)
        self.footer = self._footer(rng)
        self.most_read = [
            (rng.randrange(layout.entries), f"{rng.choice(PLACES)}: {rng.choice(OBJECTS)}")
            for _ in range(10)
        ]

    def _css(self, rng: random.Random) -> str:
        rules = []
        for n in range(260):
            colour = f"#{rng.randrange(0x1000000):06x}"
            rules.append(
                f".c-{n:03d}-{rng.choice(('card', 'teaser', 'rail', 'promo', 'grid'))}"
                f"{{margin:{rng.randint(0, 24)}px {rng.randint(0, 24)}px;color:{colour};"
                f"font-size:{rng.randint(11, 28)}px;line-height:1.{rng.randint(1, 6)}}}"
            )
        return "".join(rules)

    def _nav(self, rng: random.Random) -> str:
        base = f"/{self.layout.site(self.site)}"
        parts = ['<nav class="site-nav" aria-label="Sections"><ul>']
        for section in SECTIONS:
            parts.append(
                f'<li class="nav-item"><a href="{base}/{section.lower()}/">{section}</a>'
                '<ul class="sub">'
            )
            for _ in range(6):
                place = rng.choice(PLACES)
                parts.append(
                    f'<li><a href="{base}/{section.lower()}/{place.lower().replace(" ", "-")}/">'
                    f"{place} {section.lower()}</a></li>"
                )
            parts.append("</ul></li>")
        parts.append("</ul></nav>")
        return "".join(parts)

    def _footer(self, rng: random.Random) -> str:
        links = "".join(
            f'<li><a href="/{self.layout.site(self.site)}/about/{n}">{text}</a></li>'
            for n, text in enumerate(
                (
                    "About us",
                    "Contact the newsroom",
                    "Corrections policy",
                    "Advertise",
                    "Careers",
                    "Privacy notice",
                    "Cookie settings",
                    "Terms of use",
                    "Accessibility",
                    "Newsletters",
                    "Archive",
                    "Subscribe",
                )
            )
        )
        return (
            f'<footer class="site-footer"><ul>{links}</ul><p>&copy; {self.name}, '
            f"registered office {rng.randint(1, 200)} Quay Street, {rng.choice(PLACES)}. "
            "All rights reserved.</p></footer>"
        )

    def _ad(self, rng: random.Random, slot: str) -> str:
        config = {
            "slot": f"/{rng.randrange(10**8)}/{self.layout.site(self.site)}/{slot}",
            "sizes": [[300, 250], [728, 90], [970, 250]],
            "targeting": {
                "section": rng.choice(SECTIONS).lower(),
                "kw": [rng.choice(PLACES).lower() for _ in range(6)],
                "pos": slot,
                "ab": f"{rng.randrange(16**12):012x}",
            },
        }
        return (
            f'<aside class="ad ad-{slot}" data-slot="{slot}"><span class="ad-label">Advertisement'
            f'</span><div id="ad-{slot}-{rng.randrange(10**6)}"></div><script>'
            f"window.adq=window.adq||[];adq.push({json.dumps(config)});</script></aside>"
        )

    def page(
        self,
        story: Story,
        entry: int,
        published: datetime,
        modified: datetime,
        related: Sequence[tuple[int, str]],
    ) -> str:
        layout = self.layout
        rng = random.Random(f"page:{layout.seed}:{self.site}:{entry}")
        url = layout.url(layout.article_path(self.site, entry))
        title = escape(story.headline)
        description = escape(story.lede)
        ld = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": story.headline,
            "description": story.lede,
            "datePublished": published.isoformat(),
            "dateModified": modified.isoformat(),
            "author": [{"@type": "Person", "name": story.byline}],
            "publisher": {"@type": "Organization", "name": self.name},
            "articleSection": story.section,
            "mainEntityOfPage": url,
            "image": [f"{layout.url('/img/')}{rng.randrange(10**9)}-{w}.jpg" for w in (640, 1280)],
        }
        head = (
            f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{title} | {escape(self.name)}</title>"
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="description" content="{description}">'
            f'<meta name="author" content="{escape(story.byline)}">'
            f'<meta property="og:type" content="article">'
            f'<meta property="og:title" content="{title}">'
            f'<meta property="og:description" content="{description}">'
            f'<meta property="og:url" content="{escape(url)}">'
            f'<meta property="og:site_name" content="{escape(self.name)}">'
            f'<meta property="article:published_time" content="{published.isoformat()}">'
            f'<meta property="article:modified_time" content="{modified.isoformat()}">'
            f'<meta property="article:section" content="{story.section}">'
            f'<meta name="twitter:card" content="summary_large_image">'
            f'<meta name="twitter:title" content="{title}">'
            f'<link rel="canonical" href="{escape(url)}">'
            f'<link rel="alternate" type="application/rss+xml" '
            f'href="{escape(layout.url(layout.feed_path(self.site)))}">'
            f'<script type="application/ld+json">{json.dumps(ld)}</script>'
            f"<style>{self.css}</style></head>"
        )
        body = "".join(
            f"<p>{escape(' '.join(sentences))}</p>"
            + (self._ad(rng, f"inline{n}") if n in (2, 6) else "")
            for n, sentences in enumerate(story.paragraphs)
        )
        site_base = f"/{layout.site(self.site)}"
        related_links = "".join(
            f'<li class="c-{n:03d}-teaser">'
            f'<a href="{escape(layout.article_path(self.site, other))}">'
            f'{escape(headline)}</a><span class="kicker">{rng.choice(SECTIONS)}</span></li>'
            for n, (other, headline) in enumerate(related)
        )
        most_read = "".join(
            f'<li><a href="{escape(layout.article_path(self.site, other))}">{escape(text)}</a></li>'
            for other, text in self.most_read
        )
        state = {
            "page": {"id": f"{self.site}-{entry}", "section": story.section, "type": "article"},
            "teasers": [
                {
                    "id": f"{rng.randrange(16**16):016x}",
                    "headline": f"{rng.choice(PLACES)}: {rng.choice(SUBJECTS)} {rng.choice(VERBS)} "
                    f"{rng.choice(OBJECTS)}",
                    "image": f"{site_base}/img/{rng.randrange(10**9)}.jpg",
                    "href": f"{site_base}/{rng.choice(SECTIONS).lower()}/{rng.randrange(10**6)}",
                    "tags": [rng.choice(SECTIONS).lower() for _ in range(3)],
                }
                for _ in range(150)
            ],
            "experiments": {f"exp{n}": rng.choice("ABCD") for n in range(40)},
        }
        analytics = {
            "event": "pageview",
            "content": {
                "section": story.section,
                "words": sum(len(" ".join(p).split()) for p in story.paragraphs),
            },
            "ids": [f"{rng.randrange(16**20):020x}" for _ in range(30)],
        }
        return (
            head + f'<body class="article-page"><header class="masthead"><a href="{site_base}/">'
            f"{escape(self.name)}</a></header>{self.nav}"
            + self._ad(rng, "top")
            + f'<main><article class="story"><header><p class="section">{story.section}</p>'
            f'<h1>{title}</h1><p class="byline">By <span rel="author">'
            f"{escape(story.byline)}</span></p>"
            f'<time datetime="{published.isoformat()}">{published:%d %B %Y, %H:%M}</time>'
            f'</header><div class="story-body">{body}</div></article>'
            f'<section class="related"><h2>Related</h2><ul>{related_links}</ul></section>'
            + self._ad(rng, "rail")
            + f'<section class="most-read"><h2>Most read</h2><ol>{most_read}</ol></section>'
            f"</main>{self.footer}"
            f"<script>window.__STATE__={json.dumps(state)};</script>"
            f"<script>window.dataLayer=window.dataLayer||[];dataLayer.push({json.dumps(analytics)});"
            "</script></body></html>\n"
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.newsroom", description=__doc__.split("\n\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="write a newsroom into DIR")
    build.add_argument("dir", type=Path)
    build.add_argument("--feeds", type=int, default=200)
    build.add_argument("--entries", type=int, default=25)
    build.add_argument("--seed", type=int, default=1)
    build.add_argument("--base-url", default="http://127.0.0.1:8080")
    build.add_argument("--hosts", type=int, default=1, help="sites over 127.0.0.1 ... .N")
    build.add_argument("--skew", type=float, default=0.0, help="share of sites on 127.0.0.1")
    edit = commands.add_parser("edit", help="edit a fraction of DIR's articles")
    edit.add_argument("dir", type=Path)
    edit.add_argument("--fraction", type=float, default=0.05)
    edit.add_argument("--seed", type=int, default=2)
    args = parser.parse_args(argv)
    if args.command == "build":
        room = Newsroom.build(
            args.dir, args.feeds, args.entries, args.seed, args.base_url, args.hosts, args.skew
        )
        total = args.feeds * args.entries
        print(f"{args.dir}: {args.feeds} feeds, {total} articles", file=sys.stderr)
    else:
        room = Newsroom.load(args.dir)
        for url in room.edit(args.fraction, args.seed):
            print(url)


if __name__ == "__main__":
    main()
