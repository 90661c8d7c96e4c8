"""The inline SVG charts (monitor/web/charts.py): figures drawn to scale, labels escaped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import lxml.etree

from monitor.compare import DriftPoint
from monitor.models import Article, Drift, Version
from monitor.web.charts import BAR_HEIGHT, bar_chart, drift_chart

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def test_bars_are_drawn_to_scale_with_their_counts() -> None:
    svg = lxml.etree.fromstring(str(bar_chart([0, 5, 10], ["a", "b", "<c>"])))
    heights = [int(rect.get("height")) for rect in svg.iter("rect")]
    assert heights[0] == 0 and heights[2] == BAR_HEIGHT - 1 and heights[1] < heights[2]
    titles = [title.text for title in svg.iter("title")]
    assert titles == ["changes per day", "a: 0", "b: 5", "<c>: 10"]  # parsed back: escaped


def test_drift_has_a_line_per_article_and_a_dot_per_version() -> None:
    points = []
    for article_id, similarities in ((1, (1.0, 0.8, 0.5)), (2, (0.9,))):
        article = Article(article_id, "world", f"https://x/{article_id}", "https://x", T0, T0)
        for number, similarity in enumerate(similarities, 1):
            version = Version(article_id, number, "", "", T0 + timedelta(hours=number), "u")
            points.append(
                DriftPoint(article, version, Drift("s", similarity, numbers_added=("4",)))
            )
    svg = lxml.etree.fromstring(str(drift_chart(points, {1: "<script>one</script>", 2: "two"})))
    lines = list(svg.iter("polyline"))
    assert len(lines) == 2 and len(list(svg.iter("circle"))) == 4
    assert lines[0].findtext("title") == "<script>one</script>"  # text, not markup
    assert not list(svg.iter("script"))
    ys = [float(pair.split(",")[1]) for pair in lines[0].get("points").split()]
    assert ys[0] < ys[1] < ys[2]  # less like the seed: lower on the chart
    assert str(drift_chart([], {})) == ""
