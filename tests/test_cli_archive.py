"""`search`, `show` and `export` as a user runs them (monitor/cli_archive.py), on a store
filled by `check` from pages served on loopback."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from monitor.cli import main
from monitor.models import RawBody, Recording
from monitor.store.sql import SQLStore
from tests.store.samples import new_article, new_version
from tests.test_cli import harbour_config
from tests.test_pipeline import STORY, page
from tests.webserver import Reply, WebServer

WARCIO = str(Path(sys.executable).with_name("warcio"))  # warcio's own command line
EDITED = [STORY[0], STORY[1].replace("1,200 jobs", "2,400 jobs"), STORY[2]]


@pytest.fixture
def config(tmp_path: Path, web: WebServer) -> Path:
    """A store with article 1 in two versions: "1,200 jobs" in the first, gone in the second."""
    path = harbour_config(tmp_path, web)
    assert invoke(path, "check", "--all")[0] == 0
    web.set("/a/harbour", page("Harbour vote", EDITED))
    assert invoke(path, "check", "--all")[0] == 0
    return path


def invoke(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    return result.exit_code, result.output


def test_search_finds_deleted_text_with_where_it_appeared_and_went(config: Path) -> None:
    code, out = invoke(config, "search", "1,200 JOBS", "--json")
    assert code == 0, out
    (found,) = json.loads(out)["articles"]
    assert found["article"]["id"] == 1
    assert (found["first_version"], found["removed_in"]) == (1, 2)
    assert found["spans"] == [{"from": 1, "until": 2}]

    code, out = invoke(config, "search", "2,400 jobs")  # piped: a header and one line
    header, line = out.splitlines()
    assert header.split("\t")[:4] == ["id", "feed", "appeared", "disappeared"]
    assert line.split("\t")[2].startswith("v2 ") and line.split("\t")[3] == "still there"

    code, out = invoke(config, "search", "3,600 jobs")
    assert code == 0 and "no stored version contains" in out
    assert invoke(config, "search", "1,200 jobs", "--feed", "other", "--json")[1].count('"id"') == 0


def test_search_without_words_is_one_line_exit_2(config: Path) -> None:
    code, out = invoke(config, "search", "—")
    assert code == 2 and "nothing to search for" in out and "Traceback" not in out


def test_show_prints_a_versions_text_or_its_raw_capture(config: Path) -> None:
    code, out = invoke(config, "show", "1", "--version", "1")
    assert code == 0 and "1,200 jobs" in out
    code, out = invoke(config, "show", "1")  # the latest
    assert code == 0 and "2,400 jobs" in out and "1,200" not in out

    result = CliRunner().invoke(main, ["--config", str(config), "show", "1", "--raw"])
    with SQLStore.open(f"sqlite:///{config.parent / 'data' / 'monitor.db'}") as store:
        kept = store.get_raw_body(1, 2)
    assert kept is not None and result.stdout_bytes == kept.content
    assert b"2,400 jobs" in result.stdout_bytes


def test_show_names_what_is_missing(config: Path) -> None:
    code, out = invoke(config, "show", "1", "--version", "9")
    assert code == 2 and out.strip().endswith("article 1 has no version 9 (it has versions 1–2)")
    code, out = invoke(config, "show", "42")
    assert code == 2 and "no article '42'" in out


def test_export_jsonl_and_csv_read_back_with_the_standard_library(
    config: Path, tmp_path: Path
) -> None:
    code, out = invoke(config, "export", "--jsonl", str(tmp_path / "j"), "--sentences")
    assert code == 0, out
    versions = [json.loads(line) for line in (tmp_path / "j" / "versions.jsonl").open()]
    assert [(v["article_id"], v["number"]) for v in versions] == [(1, 1), (1, 2)]
    assert "1,200 jobs" in versions[0]["text"] and len(versions[0]["content_hash"]) == 64
    changes = [json.loads(line) for line in (tmp_path / "j" / "changes.jsonl").open()]
    assert [c["kind"] for c in changes] == ["new", "changed"]
    assert "numbers" in changes[1]["tags"] and changes[1]["stats"]["words_added"] >= 1
    sentences = [json.loads(line) for line in (tmp_path / "j" / "sentences.jsonl").open()]
    (edit,) = sentences
    assert (edit["old_version"], edit["new_version"], edit["operation"]) == (1, 2, "edited")
    assert "1,200" in edit["old_sentence"] and "2,400" in edit["new_sentence"]
    assert "versions.jsonl: 2 records" in out

    code, out = invoke(config, "export", "--csv", str(tmp_path / "c"))
    assert code == 0, out
    with (tmp_path / "c" / "changes.csv").open(newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert [row["kind"] for row in rows] == ["new", "changed"]
    assert "numbers" in json.loads(rows[1]["tags"])
    with (tmp_path / "c" / "articles.csv").open(newline="", encoding="utf-8") as stream:
        (article,) = csv.DictReader(stream)
    assert article["title"] == "Harbour vote" and article["versions"] == "2"
    assert not (tmp_path / "c" / "sentences.csv").exists()
    assert not list((tmp_path / "c").glob("*.part"))


def test_export_needs_one_format_and_a_writable_folder(config: Path, tmp_path: Path) -> None:
    code, out = invoke(config, "export")
    assert code == 2 and "one of --jsonl DIR, --csv DIR or --warc FILE" in out
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, out = invoke(config, "export", "--jsonl", str(blocker / "sub"))
    assert code == 2 and str(blocker) in out and "Traceback" not in out


def test_warc_export_is_valid_and_gives_back_the_stored_captures(
    config: Path, tmp_path: Path
) -> None:
    from warcio.archiveiterator import ArchiveIterator

    database = f"sqlite:///{config.parent / 'data' / 'monitor.db'}"
    with SQLStore.open(database) as store:  # a capture from before headers were recorded
        old = store.add_article(new_article("https://news.example/old", feed="world"))
        store.record(
            Recording(
                replace(old, versions=1),
                [],
                new_version(old.id, 1, "Old text.", url="https://news.example/old"),
                RawBody(b"<p>Old text.</p>", "text/html"),
            )
        )
        kept = {(1, n): store.get_raw_body(1, n) for n in (1, 2)}
    warc = tmp_path / "out" / "archive.warc.gz"
    warc.parent.mkdir()
    code, out = invoke(config, "export", "--warc", str(warc))
    assert code == 0, out
    assert "3 captures (1 stored before headers were recorded)" in out

    checked = subprocess.run([WARCIO, "check", "-v", str(warc)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "digest pass" in checked.stdout and "digest fail" not in checked.stdout
    indexed = subprocess.run([WARCIO, "index", str(warc)], capture_output=True, text=True)
    assert indexed.returncode == 0 and indexed.stdout.count('"response"') == 3

    with warc.open("rb") as stream:
        records = [
            (r.rec_type, r.rec_headers, r.http_headers, r.content_stream().read())
            for r in ArchiveIterator(stream)
        ]
    assert [kind for kind, *_ in records] == ["warcinfo"] + ["response", "metadata"] * 3
    responses = [r for r in records if r[0] == "response"]
    for (_, _, http, payload), raw in zip(responses[:2], kept.values(), strict=True):
        assert raw is not None and payload == raw.content  # byte-identical to the store
        assert http.get_statuscode() == "200"
        assert http.get_header("Content-Length") == str(len(payload))
        assert http.get_header("Content-Encoding") is None
    assert responses[0][1].get_header("WARC-Target-URI").endswith("/a/harbour")
    _, _, http, payload = responses[2]
    assert payload == b"<p>Old text.</p>" and http.get_header("Content-Type") == "text/html"
    metadata = [body.decode() for kind, _, _, body in records if kind == "metadata"]
    assert "request-url: http://" in metadata[0] and "headers-not-recorded" not in metadata[0]
    assert "headers-not-recorded" in metadata[2]

    code, out = invoke(config, "export", "--warc", str(warc), "--feed", "nope")
    assert code == 0 and "0 captures" in out


def test_export_filters_are_for_warc_only(config: Path, tmp_path: Path) -> None:
    code, out = invoke(config, "export", "--jsonl", str(tmp_path / "j"), "--feed", "world")
    assert code == 2 and "--feed and --since select captures for --warc" in out
    code, out = invoke(config, "export", "--jsonl", str(tmp_path), "--warc", "x.warc.gz")
    assert code == 2 and "one of --jsonl DIR, --csv DIR or --warc FILE" in out


def test_304_rechecks_are_kept_compactly_and_exported_as_revisit_records(
    tmp_path: Path, web: WebServer, store_url: str
) -> None:
    """Two 304s confirm version 1, one confirms version 2: one store row per version, and
    revisit records (the first and last 304 of each run) naming the capture they confirm."""
    from warcio.archiveiterator import ArchiveIterator

    config = harbour_config(tmp_path, web)
    config.write_text(
        config.read_text().replace("sqlite:///data/monitor.db", store_url), encoding="utf-8"
    )

    def serve(paragraphs: list[str], etag: str) -> None:
        html = "".join(f"<p>{p}</p>" for p in paragraphs)
        body = f"<html><head><title>Harbour vote</title></head><body><article>{html}</article>"
        web.set("/a/harbour", Reply(body, etag=etag, headers={"Cache-Control": "max-age=60"}))

    serve(STORY, '"v1"')
    for _ in range(3):  # captured, then answered 304 twice
        assert invoke(config, "check", "--all")[0] == 0
    serve(EDITED, '"v2"')
    for _ in range(2):  # captured, then answered 304 once
        assert invoke(config, "check", "--all")[0] == 0
    conditional = [r.headers.get("if-none-match") for r in web.hits("/a/harbour")]
    assert conditional == [None, '"v1"', '"v1"', '"v1"', '"v2"']

    with SQLStore.open(store_url) as store, store.engine.connect() as conn:
        rows = conn.execute(text("SELECT article_id, version, count, etag FROM revisits"))
        assert sorted(tuple(row) for row in rows) == [(1, 1, 2, '"v1"'), (1, 2, 1, '"v2"')]

    warc = tmp_path / "archive.warc.gz"
    code, out = invoke(config, "export", "--warc", str(warc))
    assert code == 0, out
    assert "2 captures" in out and "3 revisit records" in out
    checked = subprocess.run([WARCIO, "check", "-v", str(warc)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "digest fail" not in checked.stdout
    indexed = subprocess.run([WARCIO, "index", str(warc)], capture_output=True, text=True)
    assert indexed.returncode == 0 and indexed.stdout.count('"revisit"') == 3

    with warc.open("rb") as stream:
        records = [
            (r.rec_type, r.rec_headers, r.http_headers, r.content_stream().read())
            for r in ArchiveIterator(stream)
        ]
    captured = {
        headers.get_header("WARC-Date"): headers.get_header("WARC-Target-URI")
        for kind, headers, _, _ in records
        if kind == "response"
    }
    first_date, second_date = sorted(captured)
    revisits = [
        (headers, http, block) for kind, headers, http, block in records if kind == "revisit"
    ]
    refers = [headers.get_header("WARC-Refers-To-Date") for headers, _, _ in revisits]
    assert refers == [first_date, first_date, second_date]
    notes = {
        headers.get_header("WARC-Concurrent-To"): block.decode()
        for kind, headers, _, block in records
        if kind == "metadata"
    }
    for headers, http, block in revisits:
        assert headers.get_header("WARC-Profile") == (
            "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
        )
        target = headers.get_header("WARC-Refers-To-Target-URI")
        assert target == captured[headers.get_header("WARC-Refers-To-Date")]
        assert target == headers.get_header("WARC-Target-URI")
        assert headers.get_header("WARC-Date") > headers.get_header("WARC-Refers-To-Date")
        # No HTTP block (replay serves the capture referred to); the 304 is beside it.
        assert http is None and block == b""
        note = notes[headers.get_header("WARC-Record-ID")]
        assert "http-status: 304 Not Modified" in note
        assert "http-header: cache-control: max-age=60" in note
    etags = [
        notes[h.get_header("WARC-Record-ID")].split("http-header: etag: ")[1].split()[0]
        for h, _, _ in revisits
    ]
    assert etags == ['"v1"', '"v1"', '"v2"']
    counts = [
        notes[h.get_header("WARC-Record-ID")].split("not-modified-count: ")[1].split()[0]
        for h, _, _ in revisits
    ]
    assert counts == ["2", "2", "1"]
    first, last = (headers.get_header("WARC-Date") for headers, _, _ in revisits[:2])
    assert first < last


def test_search_lists_the_newest_up_to_limit_and_says_when_more_have_it(config: Path) -> None:
    database = f"sqlite:///{config.parent / 'data' / 'monitor.db'}"
    with SQLStore.open(database) as store:  # two more articles with "1,200 jobs", newer
        for n in (2, 3):
            url = f"https://news.example/jobs-{n}"
            article = store.add_article(new_article(url, feed="world"))
            version = new_version(article.id, 1, "Plans for 1,200 jobs.", url=url)
            store.record(Recording(replace(article, versions=1), [], version))

    code, out = invoke(config, "search", "1,200 jobs", "--json", "--limit", "2")
    document = json.loads(out)
    assert code == 0 and (document["limit"], document["more"]) == (2, True)
    assert [found["article"]["id"] for found in document["articles"]] == [3, 2]
    document = json.loads(invoke(config, "search", "1,200 jobs", "--json", "--all")[1])
    assert (document["limit"], document["more"]) == (None, False)
    (oldest,) = [found for found in document["articles"] if found["article"]["id"] == 1]
    assert (oldest["first_version"], oldest["removed_in"]) == (1, 2)

    result = CliRunner().invoke(
        main, ["--config", str(config), "search", "1,200 jobs", "--limit", "1"]
    )
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == 2  # header, one article
    assert "more articles have it: the 1 newest are listed (--limit N or --all)" in result.stderr
    result = CliRunner().invoke(main, ["--config", str(config), "search", "1,200 jobs"])
    assert len(result.stdout.splitlines()) == 4 and "more articles" not in result.stderr
