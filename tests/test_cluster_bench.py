"""The cluster bench's bookkeeping (bench/cluster.py): what it reads of nginx's access log,
and the verdicts it prints from the figures (issue 17)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from bench.cluster import AccessLog, Outcome, report, verdicts

LINE = '127.0.0.1 - - [05/Dec/2026:04:00:00 +0000] "GET {path} HTTP/1.1" {status} 0 "-" "nm"\n'


def test_the_access_log_is_read_from_where_it_was_and_whole_lines_only(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(LINE.format(path="/before", status=200))
    reader = AccessLog(log)
    assert reader.lines() == []  # what was there before the run is not the run's
    first, second = LINE.format(path="/a", status=304), LINE.format(path="/b", status=404)
    with log.open("a") as out:
        out.write(first + second[:20])  # nginx is half-way through a line
    assert reader.lines() == [("/a", "304")]
    with log.open("a") as out:
        out.write(second[20:] + "garbage\n")
    assert reader.lines() == [("/b", "404")]


def test_verdicts_compare_three_nodes_with_one_and_hosts_with_the_limit() -> None:
    one = Outcome(1, articles=100, covered=100, article_requests=100, span=10.0, per_host_max=2)
    three = Outcome(3, articles=100, covered=100, article_requests=100, span=3.0, per_host_max=2)
    assert [line[:4] for line in verdicts([one, three], per_host=2)] == ["OK  "] * 3
    slow = Outcome(3, articles=100, covered=100, article_requests=290, span=9.0, per_host_max=4)
    lines = verdicts([one, slow], per_host=2)
    assert lines[0] == "MISS 3 nodes >= 2.5x one node: 1.11x"
    assert lines[1] == "MISS per-host in flight <= 2 cluster-wide: 4"
    assert lines[2] == "MISS each article fetched once per due time: 2.90 per article"


def test_report_counts_feed_fetches_per_feed_per_interval() -> None:
    outcome = Outcome(2, articles=10, covered=10, article_requests=10, span=2.0, watched=40.0)
    outcome.feed_requests = Counter({"/site-0000/feed.xml": 4, "/site-0001/atom.xml": 4})
    outcome.shares = [6, 4]
    (row,) = report([outcome], feeds=2, interval=10.0, per_host=2)[2:]
    assert row.startswith("| 2 | 5.0 (10/10 in 2.0 s) | - | 6 / 4 | 1.00 | 1.00 |")
