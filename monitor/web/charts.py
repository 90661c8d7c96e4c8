"""Small inline SVG charts: changes per day (Feeds page) and drift from a seed (Seeds page).

Inline SVG needs no script and loads nothing, so it fits the pages' CSP. Every label is
escaped; each chart has a ``<title>`` and a text alternative beside it on the page, and
colours come from the stylesheet (``currentColor``), so dark mode applies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from markupsafe import Markup

from monitor.serialize import SeedDriftPoint

BAR_WIDTH, BAR_GAP, BAR_HEIGHT = 10, 3, 32
DRIFT_WIDTH, DRIFT_HEIGHT, DRIFT_PAD, DRIFT_LEFT = 600, 160, 16, 44
# Line styles that tell articles apart without colour.
DASHES = ("", "6 3", "2 3", "8 3 2 3", "1 2")


def bar_chart(counts: Sequence[int], labels: Sequence[str]) -> Markup:
    """One bar per day, its height the day's changes; each bar's tooltip says the count."""
    top = max(counts, default=0) or 1
    width = len(counts) * (BAR_WIDTH + BAR_GAP)
    bars = []
    for index, (count, label) in enumerate(zip(counts, labels, strict=True)):
        height = round(count / top * (BAR_HEIGHT - 2)) + (1 if count else 0)
        x = index * (BAR_WIDTH + BAR_GAP)
        bars.append(
            f'<rect x="{x}" y="{BAR_HEIGHT - height}" width="{BAR_WIDTH}" height="{height}">'
            f"<title>{escape(label)}: {count}</title></rect>"
        )
    return Markup(
        f'<svg class="bars" role="img" viewBox="0 0 {width} {BAR_HEIGHT}" '
        f'width="{width}" height="{BAR_HEIGHT}"><title>changes per day</title>'
        f"{''.join(bars)}</svg>"
    )


def drift_chart(points: Sequence[SeedDriftPoint], labels: Mapping[int, str]) -> Markup:
    """Similarity to the seed (0-100%) of each linked article's versions, in time order:
    one line per article, a dot per version with its figures in the tooltip."""
    if not points:
        return Markup("")
    times = [point.version.fetched_at.timestamp() for point in points]
    start, span = min(times), (max(times) - min(times)) or 1.0
    inner_w, inner_h = DRIFT_WIDTH - DRIFT_LEFT - DRIFT_PAD, DRIFT_HEIGHT - 2 * DRIFT_PAD
    lines: dict[int, list[tuple[float, float, str]]] = {}
    for point, moment in zip(points, times, strict=True):
        x = DRIFT_LEFT + (moment - start) / span * inner_w
        y = DRIFT_PAD + (1 - point.drift.similarity) * inner_h
        drift = point.drift
        tip = (
            f"article {point.article.id} v{point.version.number}: "
            f"{drift.similarity:.0%} like the seed; figures +{len(drift.numbers_added)} "
            f"−{len(drift.numbers_removed)}, quotes +{len(drift.quotes_added)} "
            f"−{len(drift.quotes_removed)}"
        )
        lines.setdefault(point.article.id, []).append((x, y, tip))
    parts = [
        f'<line class="axis" x1="{DRIFT_LEFT - 4}" y1="{DRIFT_PAD}" x2="{DRIFT_LEFT - 4}" '
        f'y2="{DRIFT_HEIGHT - DRIFT_PAD}"/>',
        f'<text x="2" y="{DRIFT_PAD + 4}">100%</text>',
        f'<text x="2" y="{DRIFT_HEIGHT - DRIFT_PAD + 4}">0%</text>',
    ]
    for index, (article_id, marks) in enumerate(sorted(lines.items())):
        dash = DASHES[index % len(DASHES)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in marks)
        parts.append(
            f'<polyline class="drift" points="{path}"'
            + (f' stroke-dasharray="{dash}"' if dash else "")
            + f"><title>{escape(labels.get(article_id, str(article_id)))}</title></polyline>"
        )
        parts += [
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"><title>{escape(tip)}</title></circle>'
            for x, y, tip in marks
        ]
    return Markup(
        f'<svg class="drift-chart" role="img" viewBox="0 0 {DRIFT_WIDTH} {DRIFT_HEIGHT}">'
        f"<title>similarity to the seed over time</title>{''.join(parts)}</svg>"
    )
