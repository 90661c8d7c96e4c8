"""A small scripted newsroom served on loopback, for ``newsmonitor demo`` and end-to-end tests.

``Newsroom`` runs a stdlib HTTP server on 127.0.0.1 (port chosen by the OS) with three feeds
in three formats and realistic article pages. Between scripted rounds the newsroom edits,
removes, moves and restores articles and breaks a feed, so a monitor can be shown (or tested)
to catch each lifecycle event with no network. It depends on nothing but the standard library.

Feeds::

    world     RSS 2.0   /feeds/world.xml     guid = the article's permalink
    politics  Atom 1.0  /feeds/politics.atom id = tag:courier.test,2025:story/<n>
    wire      RSS 1.0   /feeds/wire.rdf      rdf:about = permalink, dc:identifier = urn

The round script. ``Round.expected`` is exactly what an ideal monitor reports when, after the
round has started, it checks every feed and re-checks every article it already tracks:

1. Six stories, all **new**: world has ``el-salvador-prison-offer`` (the seed story),
   ``harbour-takeover-bid`` and ``glacier-village-evacuated``; politics has
   ``budget-vote-delayed`` and ``mayor-tram-plan``; wire has ``copper-prices-rally``.
2. The seed story is edited (headline rewritten, "30,000" becomes "40,000", one sentence
   added): **changed**. ``senate-ethics-inquiry`` appears in politics: **new**. The glacier
   page is restyled (newsletter box, extra nav item, related links) while its article text
   stays the same: nothing.
3. ``harbour-takeover-bid`` answers 404 while still listed in world: **removed**.
   ``mayor-tram-plan`` answers 301 to ``/articles/city-tram-network-plan`` with the same
   story: **moved** (not new). The politics feed keeps linking the old address and the same
   Atom id, as real feeds lag behind the CMS. ``glacier-village-evacuated`` drops out of the
   world feed and is then updated: **changed**, seen only by re-checking tracked articles.
   The wire feed serves a PHP fatal error instead of XML (200, not well-formed, no items).
4. ``harbour-takeover-bid`` is back with the same text: **restored**. The wire feed recovers
   with ``shipping-rates-ease``: **new**. ``budget-vote-delayed`` gets a new vote date and
   headline: **changed**.

Noise that must never produce a version: every response carries a fresh token (a CSRF hidden
input, a script nonce, a request id), a "Page generated at HH:MM:SS" footer and a randomly
rotating advert; the "Most read" sidebar follows other stories' headlines. Pages of
``el-salvador-prison-offer``, ``budget-vote-delayed``, ``senate-ethics-inquiry``,
``copper-prices-rally`` and ``shipping-rates-ease`` send a weak ETag and a Last-Modified derived
from the article's content, and answer conditional requests with 304; the others send no
validators, so a monitor must download and compare them. Feeds always send validators, except
the broken one. Every response says ``Cache-Control: no-cache`` so clients revalidate.
"""

from __future__ import annotations

import hashlib
import html
import json
import random
import secrets
import socket
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.message import Message
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import NamedTuple
from urllib.parse import urlsplit
from xml.sax.saxutils import escape as xml_escape

__all__ = ["Expected", "Newsroom", "Round", "Served"]

SITE_NAME = "The Loopback Courier"
FEED_PATHS: Mapping[str, str] = {
    "world": "/feeds/world.xml",
    "politics": "/feeds/politics.atom",
    "wire": "/feeds/wire.rdf",
}


@dataclass(frozen=True)
class Expected:
    """One event a correct monitor reports after a round."""

    kind: str  # "new" | "changed" | "removed" | "restored" | "moved"
    slug: str  # the tracked article's slug: /articles/<slug> as first seen in its feed
    moved_to: str | None = None  # for "moved": the slug the old address now redirects to


@dataclass(frozen=True)
class Round:
    """One step of the newsroom's script and what a monitor should notice in it."""

    number: int
    description: str  # one line for the demo narration
    expected: tuple[Expected, ...]
    broken_feeds: tuple[str, ...] = ()  # feed names that fail this round


class Served(NamedTuple):
    """One answered request, recorded for tests."""

    method: str
    path: str
    status: int


# --- the stories -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Story:
    """The editorial content of one article page; everything else on the page is chrome."""

    story_id: int
    slug: str
    feed: str
    headline: str
    author: str
    published: datetime
    modified: datetime
    paragraphs: tuple[str, ...]
    validators: bool  # whether the page sends ETag / Last-Modified

    @property
    def standfirst(self) -> str:
        return self.paragraphs[0]

    @property
    def etag(self) -> str:
        # Weak, because the bytes differ on every request (tokens, adverts) while the
        # article they carry is the same.
        digest = hashlib.sha256(
            "\n".join((self.slug, self.headline, self.author, *self.paragraphs)).encode()
            + self.modified.isoformat().encode()
        ).hexdigest()
        return f'W/"{digest[:20]}"'


def _utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


SEED_SLUG = "el-salvador-prison-offer"
SEED_HEADLINE = "El Salvador offers to jail deportees from the US"
SEED_EDITED_HEADLINE = "Bukele offers to jail US deportees and American convicts for a fee"
SEED_ADDED_SENTENCE = (
    "A Pentagon spokesperson said on Tuesday evening that the first detainees could arrive "
    "at the base within days."
)

# Used when no seed text is given: the same news event, written for this module.
STAND_IN_SEED_TEXT = """\
El Salvador's president has told Washington that his country is ready to take deportees from \
the United States, including people convicted of crimes whatever their nationality, and hold \
them in its largest prison.
The offer, announced after a visit by the US secretary of state to San Salvador, would see the \
Central American country charge a fee for every detainee it houses.
The secretary of state called the proposal generous and without precedent, but acknowledged \
that sending American citizens to a foreign prison would raise serious constitutional questions.
Legal scholars said any attempt to transfer US citizens abroad would almost certainly be \
challenged in federal court.
The proposal comes days after the White House ordered preparations to hold up to 30,000 \
migrants at the naval base at Guantanamo Bay in Cuba.
Human rights groups have criticised conditions in the Salvadoran mega-prison, which was built \
to hold members of street gangs.
Watch NBS news on YouTube. Subscribe to our YouTube channel:
"""


def _seed_story(seed_text: str | None) -> _Story:
    paragraphs = tuple(
        line.strip() for line in (seed_text or STAND_IN_SEED_TEXT).splitlines() if line.strip()
    )
    if not paragraphs:
        raise ValueError("seed text has no paragraphs")
    return _Story(
        story_id=40101,
        slug=SEED_SLUG,
        feed="world",
        headline=SEED_HEADLINE,
        author="Rahima Chowdhury",
        published=_utc(2025, 2, 4, 8, 15),
        modified=_utc(2025, 2, 4, 8, 15),
        paragraphs=paragraphs,
        validators=True,
    )


def _edit_seed(story: _Story) -> _Story:
    """Round 2's edit: a bigger figure, one added sentence, a sharper headline."""
    paragraphs = list(story.paragraphs)
    # The sentence joins the paragraph with the figure; a seed without one gets it up top.
    target = next((i for i, p in enumerate(paragraphs) if "30,000" in p), 0)
    paragraphs = [p.replace("30,000", "40,000") for p in paragraphs]
    paragraphs[target] = f"{paragraphs[target]} {SEED_ADDED_SENTENCE}"
    return replace(
        story,
        headline=SEED_EDITED_HEADLINE,
        modified=_utc(2025, 2, 4, 16, 40),
        paragraphs=tuple(paragraphs),
    )


HARBOUR = _Story(
    story_id=40102,
    slug="harbour-takeover-bid",
    feed="world",
    headline="Shipping group's bid for the Port of Kestrel draws competition review",
    author="Ingrid Solberg",
    published=_utc(2025, 2, 4, 7, 30),
    modified=_utc(2025, 2, 4, 7, 30),
    paragraphs=(
        "A shipping group's offer to buy the Port of Kestrel, the busiest container terminal on "
        "the northern coast, has been referred to competition regulators after rival operators "
        "warned that it would hand one company control of almost half the region's freight.",
        "Meridian Line Holdings offered 2.1 billion euros for the port's operating company in "
        "December, outbidding a group of pension funds that had been in talks with the port's "
        "municipal owners for more than a year.",
        "The competition authority said on Monday that it would open a preliminary review and "
        "decide within 30 working days whether a full investigation was needed.",
        "Smaller operators say Meridian already runs terminals in two neighbouring ports and "
        "could favour its own vessels when allocating berths, a charge the company denies.",
        '"Independent access to the quays is the whole point of a public port," said Tomas '
        'Vrell, who chairs an association of regional freight forwarders. "Once that goes, it '
        'does not come back."',
        "Meridian said it had offered binding commitments to leave berth allocation with an "
        "independent operator for at least ten years, and that it expected the review to show "
        "the deal was good for the region.",
        "The city council, which owns 60 percent of the port, is due to vote on the sale in March.",
    ),
    validators=False,
)

GLACIER = _Story(
    story_id=40103,
    slug="glacier-village-evacuated",
    feed="world",
    headline="Alpine village evacuated as glacier threatens to collapse",
    author="Marco Bernasconi",
    published=_utc(2025, 2, 4, 6, 50),
    modified=_utc(2025, 2, 4, 6, 50),
    paragraphs=(
        "Authorities have ordered the evacuation of the mountain village of Valdorno after "
        "geologists warned that a section of the glacier above it could break away within days.",
        "About 300 residents left their homes on Sunday, taking livestock and whatever they "
        "could carry, as monitoring stations recorded the ice moving several metres a day.",
        "The glacier has been retreating for decades, and scientists say meltwater seeping "
        "beneath it has loosened the rock on which it rests.",
        '"We have seen movement like this only twice in forty years of measurements," said '
        'Lena Hofmann, a glaciologist advising the regional government. "Nobody can say exactly '
        'when it will go, but the risk is too high to stay."',
        "Roads into the valley have been closed, and a helicopter flies over the glacier twice a "
        "day to survey the ice.",
        "Residents have been offered temporary accommodation in the neighbouring town, where a "
        "school gym has been turned into a shelter.",
    ),
    validators=False,
)

GLACIER_UPDATED = replace(
    GLACIER,
    headline="Valdorno residents allowed home as glacier movement slows",
    modified=_utc(2025, 2, 5, 8, 20),
    paragraphs=(
        *GLACIER.paragraphs[:4],
        "On Wednesday the regional government said the ice had slowed to a few centimetres a "
        "day and that residents could return to homes on the eastern side of the village "
        "during daylight hours.",
        "The road into the valley has reopened to residents, though the helicopter survey will "
        "continue twice a day until the ice stabilises.",
        GLACIER.paragraphs[5],
    ),
)

BUDGET = _Story(
    story_id=40104,
    slug="budget-vote-delayed",
    feed="politics",
    headline="Council delays budget vote as row over bus fares deepens",
    author="Priya Natarajan",
    published=_utc(2025, 2, 4, 10, 5),
    modified=_utc(2025, 2, 4, 10, 5),
    paragraphs=(
        "The city council has postponed Thursday's vote on next year's budget after the two "
        "largest parties failed to agree on how to pay for a freeze on bus fares.",
        "The governing coalition had hoped to pass the 1.4 billion budget before the end of the "
        "month, but its junior partner said it would not back a plan that relied on cutting "
        "library opening hours.",
        '"We were asked to choose between buses and books, and we refuse to make that choice," '
        "said councillor Amara Osei, who leads the junior partner's group.",
        "Finance officials warned that without an approved budget by mid-March, the city would "
        "have to run on emergency spending rules that limit new contracts.",
        "Talks between the parties are expected to resume on Monday.",
    ),
    validators=True,
)

BUDGET_UPDATED = replace(
    BUDGET,
    headline="Council sets new date for budget vote after bus fare compromise",
    modified=_utc(2025, 2, 5, 13, 45),
    paragraphs=(
        *BUDGET.paragraphs[:4],
        "The parties said on Wednesday that they had agreed a compromise that keeps libraries "
        "open on Saturdays and pays for the fare freeze with a parking levy, and that the vote "
        "would now take place next Tuesday.",
    ),
)

TRAM = _Story(
    story_id=40105,
    slug="mayor-tram-plan",
    feed="politics",
    headline="Mayor unveils plan for three new tram lines",
    author="Daniel Okafor",
    published=_utc(2025, 2, 4, 9, 20),
    modified=_utc(2025, 2, 4, 9, 20),
    paragraphs=(
        "The mayor has unveiled plans for three new tram lines that would connect the eastern "
        "suburbs to the city centre for the first time, at an estimated cost of 900 million.",
        "Under the proposal, work on the first line, from the central station to the university "
        "campus, would begin in 2027 and take four years.",
        "The other two lines would follow the old railway corridor to the harbour and the ring "
        "road to the new hospital.",
        "City officials say the network would take about 40,000 car journeys off the roads "
        "every day.",
        "Opposition councillors welcomed the plan but asked how it would be paid for, noting "
        "that the city has yet to finish the bus lane programme it started six years ago.",
        "A public consultation will open next month.",
    ),
    validators=False,
)
TRAM_NEW_SLUG = "city-tram-network-plan"

SENATE = _Story(
    story_id=40106,
    slug="senate-ethics-inquiry",
    feed="politics",
    headline="Senate committee opens ethics inquiry into lobbying disclosures",
    author="Hannah Weiss",
    published=_utc(2025, 2, 4, 17, 10),
    modified=_utc(2025, 2, 4, 17, 10),
    paragraphs=(
        "A Senate ethics committee has opened an inquiry into whether three members failed to "
        "disclose meetings with lobbyists for a pharmaceutical trade group in the weeks before "
        "a vote on drug pricing.",
        "The committee said in a brief statement that it had received a complaint and would "
        "examine calendars, travel records and correspondence from the past eighteen months.",
        "The committee has not named the three senators, though two confirmed on Tuesday that "
        "they had been asked for documents and said they would cooperate fully.",
        "Disclosure rules require members to report scheduled meetings with registered "
        "lobbyists within 30 days.",
        "Watchdog groups have long argued that the rules are loosely enforced, pointing out "
        "that the committee has issued only two formal reprimands in the past decade.",
    ),
    validators=True,
)

COPPER = _Story(
    story_id=40107,
    slug="copper-prices-rally",
    feed="wire",
    headline="Copper climbs to eight-month high on supply worries",
    author="Lukas Brandt",
    published=_utc(2025, 2, 4, 11, 30),
    modified=_utc(2025, 2, 4, 11, 30),
    paragraphs=(
        "Copper prices rose to their highest level in eight months on Tuesday as traders worried "
        "that strikes at two large mines would tighten supply just as demand from power grid "
        "projects picks up.",
        "Benchmark three-month copper gained 2.3 percent to 9,480 dollars a tonne in afternoon "
        "trading, extending a rally that began last week.",
        "Workers at the two mines, which together produce about four percent of the world's "
        "mined copper, walked out on Monday after wage talks broke down.",
        "Analysts said stocks in exchange warehouses were already low, leaving little cushion "
        "if the stoppages drag on.",
        "Aluminium and zinc also edged higher, while nickel was little changed.",
    ),
    validators=True,
)

SHIPPING = _Story(
    story_id=40108,
    slug="shipping-rates-ease",
    feed="wire",
    headline="Container shipping rates ease as new vessels join the fleet",
    author="Sofia Marin",
    published=_utc(2025, 2, 5, 14, 10),
    modified=_utc(2025, 2, 5, 14, 10),
    paragraphs=(
        "The cost of shipping a container from Asia to northern Europe fell for a fourth week "
        "in a row, as newly built vessels added capacity faster than demand is growing.",
        "A widely watched index of spot rates dropped 6 percent from the previous week, leaving "
        "prices roughly a third below their level at the start of the year.",
        "Shipyards delivered a record number of large container ships last year, and more than "
        "200 more are due this year, according to industry figures.",
        "Carriers have responded by cancelling sailings and sending ships on longer routes, but "
        "analysts expect rates to keep drifting lower through the spring.",
    ),
    validators=True,
)


# --- the script --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Edition:
    """Everything the newsroom serves during one round (bar per-request noise)."""

    published_at: datetime  # when this round's edition went out: feeds' Last-Modified floor
    stories: Mapping[str, _Story]  # every story known by slug, with its current content
    listings: Mapping[str, tuple[str, ...]]  # feed name -> slugs it lists, newest first
    gone: frozenset[str] = frozenset()  # slugs answering 404
    redirects: Mapping[str, str] = field(default_factory=dict)  # old slug -> new slug
    broken_feeds: frozenset[str] = frozenset()
    restyled: frozenset[str] = frozenset()  # pages whose chrome was redesigned

    def live(self, slug: str) -> _Story | None:
        """The story a 200 page shows at /articles/<slug>, if any."""
        if slug in self.gone or slug in self.redirects:
            return None
        return self.stories.get(slug)


def _script(seed: _Story) -> tuple[tuple[Round, _Edition], ...]:
    """The rounds in order, each with the edition the server shows during it."""
    first, second, third, fourth = _editions(seed)
    figure = "30,000 becomes 40,000, " if any("30,000" in p for p in seed.paragraphs) else ""
    return (
        (
            Round(
                1,
                "Six stories across three feeds (RSS 2.0, Atom, RSS 1.0): every one is new",
                tuple(
                    Expected("new", story.slug)
                    for story in (seed, HARBOUR, GLACIER, BUDGET, TRAM, COPPER)
                ),
            ),
            first,
        ),
        (
            Round(
                2,
                f"The El Salvador story is edited: {figure}a sentence is added and the headline "
                "changes; the glacier page only gets new chrome; a Senate story appears",
                (Expected("changed", seed.slug), Expected("new", SENATE.slug)),
            ),
            second,
        ),
        (
            Round(
                3,
                "The harbour story is taken down (404), the tram story moves (301), the glacier "
                "story is updated after leaving its feed, and the wire feed breaks",
                (
                    Expected("removed", HARBOUR.slug),
                    Expected("moved", TRAM.slug, moved_to=TRAM_NEW_SLUG),
                    Expected("changed", GLACIER.slug),
                ),
                broken_feeds=("wire",),
            ),
            third,
        ),
        (
            Round(
                4,
                "The harbour story is back, the wire feed recovers with a new story, and the "
                "budget story gets a new vote date",
                (
                    Expected("restored", HARBOUR.slug),
                    Expected("changed", BUDGET.slug),
                    Expected("new", SHIPPING.slug),
                ),
            ),
            fourth,
        ),
    )


def _editions(seed: _Story) -> tuple[_Edition, _Edition, _Edition, _Edition]:
    """What the server shows in each of the four rounds, each edition built on the last."""
    moved = replace(TRAM, slug=TRAM_NEW_SLUG)
    first = _Edition(
        published_at=_utc(2025, 2, 4, 12, 0),
        stories={s.slug: s for s in (seed, HARBOUR, GLACIER, BUDGET, TRAM, COPPER)},
        listings={
            "world": (seed.slug, HARBOUR.slug, GLACIER.slug),
            "politics": (BUDGET.slug, TRAM.slug),
            "wire": (COPPER.slug,),
        },
    )
    second = replace(
        first,
        published_at=_utc(2025, 2, 4, 18, 0),
        stories={**first.stories, seed.slug: _edit_seed(seed), SENATE.slug: SENATE},
        listings={**first.listings, "politics": (SENATE.slug, BUDGET.slug, TRAM.slug)},
        restyled=frozenset({GLACIER.slug}),
    )
    third = replace(
        second,
        published_at=_utc(2025, 2, 5, 9, 0),
        stories={**second.stories, GLACIER.slug: GLACIER_UPDATED, moved.slug: moved},
        listings={**second.listings, "world": (seed.slug, HARBOUR.slug)},
        gone=frozenset({HARBOUR.slug}),
        redirects={TRAM.slug: moved.slug},
        broken_feeds=frozenset({"wire"}),
    )
    fourth = replace(
        third,
        published_at=_utc(2025, 2, 5, 15, 0),
        stories={**third.stories, BUDGET.slug: BUDGET_UPDATED, SHIPPING.slug: SHIPPING},
        listings={**third.listings, "wire": (SHIPPING.slug, COPPER.slug)},
        gone=frozenset(),
        broken_feeds=frozenset(),
    )
    return first, second, third, fourth


# --- rendering ---------------------------------------------------------------------------

ADVERTS = (
    "Switch to Brightwave Broadband: 900 Mbps for the price of 100. Offer ends Sunday.",
    "Winter sun from 199: seven nights in the Canaries with Solano Holidays.",
    "Northfield Bank: open a savings account in five minutes and earn 4.1% AER.",
    "Kestrel Motors spring event: 0% finance on every hybrid in stock.",
    "Learn a language in 15 minutes a day. Try Parlatu free for a month.",
    "The Courier Crossword app: every puzzle since 1998, now on your phone.",
)


@dataclass(frozen=True)
class _Noise:
    """What changes on every request and must never count as an edit."""

    token: str
    nonce: str
    advert: str
    generated_at: str

    @classmethod
    def fresh(cls) -> _Noise:
        return cls(
            token=secrets.token_urlsafe(24),
            nonce=secrets.token_hex(12),
            advert=random.choice(ADVERTS),
            generated_at=datetime.now(UTC).strftime("%H:%M:%S"),
        )


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _human_time(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y, %H:%M} GMT"


def _page_head(title: str, noise: _Noise, meta: str = "") -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
{meta}<meta name="csrf-token" content="{noise.token}">
<link rel="stylesheet" href="/static/site.css">
<script nonce="{noise.nonce}">window.__courier = {{requestId: "{noise.token}", abBucket: \
"{noise.nonce[:2]}"}};</script>
</head>"""


def _masthead(noise: _Noise, restyled: bool) -> str:
    sections = ["World", "Politics", "Business", "Climate", "Sport", "Culture"]
    if restyled:
        sections.insert(1, "Live")
    items = "".join(f'<li><a href="/section/{s.lower()}">{s}</a></li>' for s in sections)
    return f"""<body>
<a class="skip" href="#content">Skip to content</a>
<header class="masthead">
<a class="logo" href="/">{SITE_NAME}</a>
<nav aria-label="Sections"><ul>{items}</ul></nav>
<form class="search" action="/search" method="get">
<input type="hidden" name="csrf" value="{noise.token}">
<input type="search" name="q" placeholder="Search the Courier">
</form>
</header>"""


def _footer(noise: _Noise) -> str:
    return f"""<footer class="site-footer">
<ul><li><a href="/about">About us</a></li><li><a href="/privacy">Privacy</a></li>\
<li><a href="/corrections">Corrections</a></li></ul>
<p>&copy; 2025 {SITE_NAME}. All rights reserved.</p>
<p class="generated">Page generated at {noise.generated_at}</p>
</footer>
<script nonce="{noise.nonce}" src="/static/analytics.js" data-request="{noise.token}"></script>
<script nonce="{noise.nonce}">document.documentElement.classList.add("js");</script>
</body>
</html>
"""


def _most_read(edition: _Edition, exclude: str, base_url: str) -> str:
    others = sorted(
        (s for slug, s in edition.stories.items() if slug != exclude and edition.live(slug)),
        key=lambda s: s.modified,
        reverse=True,
    )[:4]
    items = "".join(
        f'<li><a href="{base_url}/articles/{s.slug}">{_e(s.headline)}</a></li>' for s in others
    )
    return f'<aside class="most-read"><h2>Most read</h2><ol>{items}</ol></aside>'


def _json_ld(story: _Story, url: str) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": story.headline,
        "url": url,
        "datePublished": story.published.isoformat(),
        "dateModified": story.modified.isoformat(),
        "author": [{"@type": "Person", "name": story.author}],
        "publisher": {"@type": "NewsMediaOrganization", "name": SITE_NAME},
    }
    # "</" inside a script element would end it early; JSON allows the escaped slash.
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


def _article_meta(story: _Story, url: str) -> str:
    """The head's canonical link, author, Open Graph, article times and JSON-LD."""
    return (
        f'<link rel="canonical" href="{url}">\n'
        f'<meta name="author" content="{_e(story.author)}">\n'
        f'<meta name="description" content="{_e(story.standfirst)}">\n'
        f'<meta property="og:type" content="article">\n'
        f'<meta property="og:title" content="{_e(story.headline)}">\n'
        f'<meta property="og:url" content="{url}">\n'
        f'<meta property="article:published_time" content="{story.published.isoformat()}">\n'
        f'<meta property="article:modified_time" content="{story.modified.isoformat()}">\n'
        f'<script type="application/ld+json">{_json_ld(story, url)}</script>\n'
    )


def _byline(story: _Story) -> str:
    """The byline paragraph without its closing tag."""
    author_slug = story.author.lower().replace(" ", "-")
    byline = (
        f'<p class="byline">By <a rel="author" href="/authors/{author_slug}">'
        f"{_e(story.author)}</a> &middot; "
        f'<time datetime="{story.published.isoformat()}">{_human_time(story.published)}</time>'
    )
    if story.modified > story.published:
        byline += (
            " &middot; Updated "
            f'<time datetime="{story.modified.isoformat()}">{_human_time(story.modified)}</time>'
        )
    return byline


def _restyled_extras(noise: _Noise) -> tuple[str, str]:
    """The related-stories and newsletter boxes a redesigned page gained."""
    related = (
        '<section class="related"><h2>More on this story</h2><ul>'
        '<li><a href="/section/climate">Why Alpine glaciers are retreating faster</a></li>'
        '<li><a href="/section/climate">In pictures: a summer without snow</a></li>'
        "</ul></section>"
    )
    newsletter = (
        '<section class="newsletter"><h2>Get the Courier morning briefing</h2>'
        '<form action="/newsletter" method="post">'
        f'<input type="hidden" name="csrf" value="{noise.token}">'
        '<input type="email" name="email" placeholder="you@example.com">'
        "<button>Sign up</button></form></section>"
    )
    return related, newsletter


def _article_page(story: _Story, edition: _Edition, base_url: str, noise: _Noise) -> str:
    url = f"{base_url}/articles/{story.slug}"
    restyled = story.slug in edition.restyled
    body: list[str] = [f"<p>{_e(p)}</p>" for p in story.paragraphs]
    # Mid-article adverts are how real pages look; extraction has to see past them.
    advert = (
        f'<aside class="advertisement ad-slot" id="ad-{noise.nonce[:8]}">'
        f'<span class="ad-label">Advertisement</span><p>{_e(noise.advert)}</p></aside>'
    )
    body.insert(min(2, len(body)), advert)
    related, newsletter = _restyled_extras(noise) if restyled else ("", "")
    return (
        _page_head(f"{story.headline} | {SITE_NAME}", noise, _article_meta(story, url))
        + _masthead(noise, restyled)
        + '\n<main id="content">\n<article class="story">\n'
        + f"<h1>{_e(story.headline)}</h1>\n{_byline(story)}</p>\n"
        + '<div class="story-body">\n'
        + "\n".join(body)
        + "\n</div>\n</article>\n"
        + newsletter
        + _most_read(edition, story.slug, base_url)
        + related
        + "\n</main>\n"
        + _footer(noise)
    )


def _not_found_page(edition: _Edition, base_url: str, noise: _Noise) -> str:
    return (
        _page_head(f"Page not found | {SITE_NAME}", noise)
        + _masthead(noise, restyled=False)
        + '\n<main id="content">\n<h1>Sorry, we can\'t find that page</h1>\n'
        + "<p>The story you are looking for may have been moved or removed.</p>\n"
        + _most_read(edition, "", base_url)
        + "\n</main>\n"
        + _footer(noise)
    )


def _front_page(edition: _Edition, base_url: str, noise: _Noise) -> str:
    sections = []
    for name in FEED_PATHS:
        items = "".join(
            f'<li><a href="{base_url}/articles/{slug}">'
            f"{_e(edition.stories[slug].headline)}</a></li>"
            for slug in edition.listings[name]
        )
        sections.append(f"<section><h2>{name.title()}</h2><ul>{items}</ul></section>")
    return (
        _page_head(SITE_NAME, noise)
        + _masthead(noise, restyled=False)
        + '\n<main id="content">\n'
        + "\n".join(sections)
        + "\n</main>\n"
        + _footer(noise)
    )


def _x(text: str) -> str:
    return xml_escape(text, {'"': "&quot;"})


def _feed_items(edition: _Edition, name: str) -> list[_Story]:
    return [edition.stories[slug] for slug in edition.listings[name]]


def _rss20(edition: _Edition, base_url: str) -> str:
    stories = _feed_items(edition, "world")
    items = "".join(
        f"""
<item>
<title>{_x(s.headline)}</title>
<link>{base_url}/articles/{slug}</link>
<guid isPermaLink="true">{base_url}/articles/{slug}</guid>
<pubDate>{format_datetime(s.published, usegmt=True)}</pubDate>
<dc:creator>{_x(s.author)}</dc:creator>
<category>World</category>
<description>{_x(s.standfirst)}</description>
</item>"""
        for slug, s in zip(edition.listings["world"], stories, strict=True)
    )
    built = max(s.modified for s in stories)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" \
xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
<title>{SITE_NAME}: World</title>
<link>{base_url}/section/world</link>
<description>World news from {SITE_NAME}</description>
<language>en-gb</language>
<lastBuildDate>{format_datetime(built, usegmt=True)}</lastBuildDate>
<atom:link href="{base_url}{FEED_PATHS["world"]}" rel="self" type="application/rss+xml"/>\
{items}
</channel>
</rss>
"""


def _atom(edition: _Edition, base_url: str) -> str:
    stories = _feed_items(edition, "politics")
    entries = "".join(
        f"""
<entry>
<id>tag:courier.test,2025:story/{s.story_id}</id>
<title type="text">{_x(s.headline)}</title>
<link rel="alternate" type="text/html" href="{base_url}/articles/{slug}"/>
<published>{s.published.isoformat()}</published>
<updated>{s.modified.isoformat()}</updated>
<author><name>{_x(s.author)}</name></author>
<summary type="text">{_x(s.standfirst)}</summary>
</entry>"""
        for slug, s in zip(edition.listings["politics"], stories, strict=True)
    )
    updated = max(s.modified for s in stories)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
<id>tag:courier.test,2025:feeds/politics</id>
<title>{SITE_NAME}: Politics</title>
<subtitle>Politics from {SITE_NAME}</subtitle>
<updated>{updated.isoformat()}</updated>
<link rel="self" type="application/atom+xml" href="{base_url}{FEED_PATHS["politics"]}"/>
<link rel="alternate" type="text/html" href="{base_url}/section/politics"/>
<author><name>{SITE_NAME}</name></author>{entries}
</feed>
"""


def _rdf(edition: _Edition, base_url: str) -> str:
    slugs = edition.listings["wire"]
    stories = _feed_items(edition, "wire")
    seq = "".join(f'\n<rdf:li rdf:resource="{base_url}/articles/{slug}"/>' for slug in slugs)
    items = "".join(
        f"""
<item rdf:about="{base_url}/articles/{slug}">
<title>{_x(s.headline)}</title>
<link>{base_url}/articles/{slug}</link>
<description>{_x(s.standfirst)}</description>
<dc:date>{s.published.isoformat()}</dc:date>
<dc:creator>{_x(s.author)}</dc:creator>
<dc:identifier>urn:courier:story:{s.story_id}</dc:identifier>
</item>"""
        for slug, s in zip(slugs, stories, strict=True)
    )
    updated = max(s.modified for s in stories)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" \
xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="{base_url}{FEED_PATHS["wire"]}">
<title>{SITE_NAME}: Wire</title>
<link>{base_url}/section/business</link>
<description>Markets and business wire from {SITE_NAME}</description>
<dc:date>{updated.isoformat()}</dc:date>
<items><rdf:Seq>{seq}
</rdf:Seq></items>
</channel>{items}
</rdf:RDF>
"""


# What a crashing PHP feed script really sends: a 200, the start of the document, then the
# error message in the middle of it. Not well-formed, and no items survive.
BROKEN_FEED = """<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" \
xmlns="http://purl.org/rss/1.0/">
<channel rdf:about="/feeds/wire.rdf">
<title>The Loopback Courier: Wire</title>
<br />
<b>Fatal error</b>:  Allowed memory size of 134217728 bytes exhausted (tried to allocate \
20480 bytes) in <b>/var/www/courier/feeds/rdf.php</b> on line <b>212</b><br />
"""

FEED_RENDERERS = {"world": _rss20, "politics": _atom, "wire": _rdf}
FEED_TYPES = {
    "world": "application/rss+xml; charset=utf-8",
    "politics": "application/atom+xml; charset=utf-8",
    "wire": "application/rdf+xml; charset=utf-8",
}


# --- HTTP --------------------------------------------------------------------------------


@dataclass
class _Reply:
    """A response before conditional-request handling."""

    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: datetime | None = None


def _opaque(tag: str) -> str:
    return tag.strip().removeprefix("W/")


def _not_modified(headers: Message, etag: str | None, last_modified: datetime | None) -> bool:
    """RFC 9110 §13.1: If-None-Match (weak comparison) wins over If-Modified-Since."""
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        if etag is None:
            return False
        tags = [t.strip() for t in if_none_match.split(",")]
        return "*" in tags or any(_opaque(t) == _opaque(etag) for t in tags)
    since_header = headers.get("If-Modified-Since")
    if since_header is None or last_modified is None:
        return False
    try:
        since = parsedate_to_datetime(since_header)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return last_modified <= since


# A client that hangs up mid-exchange (a reset, a closed pipe) is normal on the web and
# needs no answer; a traceback for it would break the demo's narration (issue 14).
CLIENT_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


class _Server(ThreadingHTTPServer):
    """The newsroom's HTTP server: handler threads are daemons, a client that went away is
    counted through ``on_hangup`` instead of printed as a traceback."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        on_hangup: Callable[[], None],
    ) -> None:
        super().__init__(address, handler)
        self._on_hangup = on_hangup

    def handle_error(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: object
    ) -> None:
        if isinstance(sys.exc_info()[1], CLIENT_GONE):
            self._on_hangup()
            return
        super().handle_error(request, client_address)


class Newsroom:
    """A loopback news site whose feeds and pages follow a scripted sequence of rounds."""

    def __init__(self, seed_text: str | None = None) -> None:
        script = _script(_seed_story(seed_text))
        self.rounds: tuple[Round, ...] = tuple(r for r, _ in script)
        self._editions: tuple[_Edition, ...] = tuple(e for _, e in script)
        self._index = 0
        self._lock = threading.Lock()
        self._served: list[Served] = []
        self._hangups = 0
        self._hung_up = threading.Condition(self._lock)
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle

    def start(self) -> Newsroom:
        """Bind 127.0.0.1 on a free port and serve from a daemon thread."""
        if self._httpd is not None:
            raise RuntimeError("newsroom already started")
        newsroom = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "CourierCMS/4.2"
            sys_version = ""

            def log_message(self, format: str, *args: object) -> None:
                pass  # a demo narrates; it does not spray access logs

            def do_GET(self) -> None:
                newsroom._answer(self)

            def do_HEAD(self) -> None:
                newsroom._answer(self)

        httpd = _Server(("127.0.0.1", 0), Handler, self._count_hangup)
        self._httpd = httpd
        # A short poll interval keeps stop() quick: shutdown() waits for the next poll.
        self._thread = threading.Thread(
            target=httpd.serve_forever, args=(0.05,), name="newsroom", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port; safe to call twice."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Newsroom:
        return self if self._httpd is not None else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("newsroom not started")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def feeds(self) -> list[tuple[str, str]]:
        """(name, url) of every feed: world (RSS 2.0), politics (Atom 1.0), wire (RSS 1.0)."""
        return [(name, self.feed_url(name)) for name in FEED_PATHS]

    def feed_url(self, name: str) -> str:
        return f"{self.base_url}{FEED_PATHS[name]}"

    def article_url(self, slug: str) -> str:
        return f"{self.base_url}/articles/{slug}"

    # -- the script

    @property
    def current(self) -> Round:
        with self._lock:
            return self.rounds[self._index]

    def advance(self) -> Round:
        """Move to the next round; IndexError after the last."""
        with self._lock:
            if self._index + 1 >= len(self.rounds):
                raise IndexError(f"round {self._index + 1} is the last round")
            self._index += 1
            return self.rounds[self._index]

    @property
    def requests(self) -> list[Served]:
        """Every request answered so far, in order: (method, path, status)."""
        with self._lock:
            return list(self._served)

    @property
    def hangups(self) -> int:
        """Clients that went away before their answer was written (ignored, not errors)."""
        with self._lock:
            return self._hangups

    def wait_for_hangups(self, count: int, timeout: float) -> bool:
        """Block until ``count`` hangups were seen (False if ``timeout`` seconds pass first)."""
        with self._hung_up:
            return self._hung_up.wait_for(lambda: self._hangups >= count, timeout)

    def _count_hangup(self) -> None:
        with self._hung_up:
            self._hangups += 1
            self._hung_up.notify_all()

    # -- serving

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            index = self._index
        reply = self._route(urlsplit(handler.path).path, index)
        status, body = reply.status, reply.body
        if status == 200 and _not_modified(handler.headers, reply.etag, reply.last_modified):
            status, body = 304, b""
        handler.send_response(status)
        if status != 304:
            handler.send_header("Content-Type", reply.content_type)
            handler.send_header("Content-Length", str(len(body)))
        handler.send_header("Cache-Control", "no-cache")
        handler.send_header("X-Request-Id", secrets.token_hex(8))
        if reply.etag:
            handler.send_header("ETag", reply.etag)
        if reply.last_modified:
            handler.send_header("Last-Modified", format_datetime(reply.last_modified, usegmt=True))
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        with self._lock:
            self._served.append(Served(handler.command, handler.path, status))
        if body and handler.command != "HEAD":
            # A client that hung up raises here; _Server.handle_error counts it.
            handler.wfile.write(body)

    def _route(self, path: str, index: int) -> _Reply:
        edition = self._editions[index]
        base_url = self.base_url
        noise = _Noise.fresh()
        if path in ("/", "/index.html"):
            return _Reply(200, _front_page(edition, base_url, noise).encode())
        if path == "/robots.txt":
            return _Reply(200, b"User-agent: *\nAllow: /\n", "text/plain; charset=utf-8")
        for name, feed_path in FEED_PATHS.items():
            if path == feed_path:
                return self._feed(name, index)
        if path.startswith("/articles/"):
            slug = path.removeprefix("/articles/").rstrip("/")
            if slug in edition.redirects:
                target = self.article_url(edition.redirects[slug])
                body = f'<html><body>Moved to <a href="{target}">{target}</a></body></html>'
                return _Reply(301, body.encode(), headers={"Location": target})
            story = edition.live(slug)
            if story is not None:
                page = _article_page(story, edition, base_url, noise).encode()
                if not story.validators:
                    return _Reply(200, page)
                return _Reply(200, page, etag=story.etag, last_modified=story.modified)
        return _Reply(404, _not_found_page(edition, base_url, noise).encode())

    def _feed(self, name: str, index: int) -> _Reply:
        edition = self._editions[index]
        if name in edition.broken_feeds:
            return _Reply(200, BROKEN_FEED.encode(), FEED_TYPES[name])
        body = FEED_RENDERERS[name](edition, self.base_url).encode()
        # Last-Modified is when the document last changed: walk back while it is the same.
        first = index
        while (
            first > 0
            and name not in self._editions[first - 1].broken_feeds
            and FEED_RENDERERS[name](self._editions[first - 1], self.base_url).encode() == body
        ):
            first -= 1
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        return _Reply(
            200,
            body,
            FEED_TYPES[name],
            etag=etag,
            last_modified=self._editions[first].published_at,
        )
