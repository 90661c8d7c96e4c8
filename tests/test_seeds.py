"""Seeds: loading documents, linking article versions to them, and drift from the seed."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bench.seeds import (
    NEWSROOM_STORIES,
    SAME_TOPIC,
    SEED_FILE,
    SEED_IGNORE,
    body_seed,
    corpus_bodies,
    edited,
    load_seed,
    republished,
    rewritten,
    seed_paragraphs,
    seed_variants,
    shortened,
)
from monitor.errors import ConfigError
from monitor.models import Seed, SentenceStatus
from monitor.newsroom import SEED_ADDED_SENTENCE
from monitor.seeds import (
    URL_REASON,
    MatchParams,
    SeedIndex,
    compute_drift,
    drift_sentences,
    load_seeds,
)

CORPUS = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "corpora"
    / "article_extraction_benchmark"
    / "ground-truth.json"
)
SEED_ID = SEED_FILE.stem


@pytest.fixture(scope="module")
def seed() -> Seed:
    return load_seed()


@pytest.fixture(scope="module")
def index(seed: Seed) -> SeedIndex:
    return SeedIndex([seed])


@pytest.fixture(scope="module")
def bodies() -> dict[str, str]:
    found = corpus_bodies(CORPUS)
    if not found:
        pytest.skip(f"article extraction benchmark corpus not present at {CORPUS}")
    return found


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# --- loading ------------------------------------------------------------------------------


def test_front_matter_sets_the_seed_fields(tmp_path: Path) -> None:
    write(
        tmp_path,
        "story.txt",
        "+++\n"
        'title = "El Salvador offers to jail US deportees"\n'
        'url = "HTTPS://News.Example.com/story?utm_source=x&id=7#top"\n'
        'feeds = ["world", "wire"]\n'
        "match = 0.6\n"
        "ignore = ['^Subscribe.*$']\n"
        "+++\n"
        "First paragraph of the story.\n"
        "\n"
        "  Second   paragraph.\n"
        "Subscribe to our channel!\n",
    )
    (seed,) = load_seeds(tmp_path)
    assert seed == Seed(
        id="story",
        path=str(tmp_path / "story.txt"),
        text="First paragraph of the story.\n\nSecond paragraph.",
        title="El Salvador offers to jail US deportees",
        url="https://news.example.com/story?id=7",
        feeds=("world", "wire"),
        match=0.6,
        ignore=("^Subscribe.*$",),
    )


def test_a_document_without_front_matter_is_all_body(tmp_path: Path) -> None:
    write(tmp_path, "plain.txt", "One line.\nTwo lines.\n")
    (seed,) = load_seeds(tmp_path)
    assert (seed.text, seed.title, seed.url, seed.feeds, seed.match) == (
        "One line.\n\nTwo lines.",
        None,
        None,
        (),
        None,
    )


def test_ignore_patterns_remove_the_boilerplate_line(tmp_path: Path) -> None:
    shutil.copy(SEED_FILE, tmp_path / SEED_FILE.name)
    (raw,) = load_seeds(tmp_path)
    assert raw.text.endswith(
        "Watch NBS news on YouTube in Bengali । Subscribe Our YouTube Channel:"
    )
    (clean,) = load_seeds(tmp_path, SEED_IGNORE)
    assert "YouTube" not in clean.text
    assert clean.text.endswith("tough stance on immigration issues.")
    assert len(clean.text.split("\n\n")) == len(raw.text.split("\n\n")) - 1
    # A seed's own ignore list works the same way.
    body = SEED_FILE.read_text(encoding="utf-8")
    write(tmp_path, SEED_FILE.name, f"+++\nignore = ['^Watch NBS news on YouTube.*$']\n+++\n{body}")
    (own,) = load_seeds(tmp_path)
    assert own.text == clean.text


def test_seeds_are_txt_and_md_files_sorted_by_name(tmp_path: Path) -> None:
    write(tmp_path, "b.txt", "Bee.")
    write(tmp_path, "a.md", "Ay.")
    write(tmp_path, "c.json", "{}")
    write(tmp_path, "notes.txt.bak", "Old.")
    assert [seed.id for seed in load_seeds(tmp_path)] == ["a", "b"]


def test_a_missing_folder_has_no_seeds(tmp_path: Path) -> None:
    assert load_seeds(tmp_path / "nowhere") == []


@pytest.mark.parametrize(
    ("front_matter", "expected"),
    [
        ('colour = "red"', "key 'colour': unknown key"),
        ("title = 3", "key 'title': must be a string"),
        ('url = ["https://x.test/"]', "key 'url': must be a string"),
        ('feeds = "world"', "key 'feeds': must be a list of strings"),
        ("feeds = [1]", "key 'feeds': must be a list of strings"),
        ("match = 1.5", "key 'match': must be a number from 0 to 1"),
        ("match = true", "key 'match': must be a number from 0 to 1"),
        ('ignore = "^x$"', "key 'ignore': must be a list of regular expressions"),
        ("ignore = ['(unclosed']", "key 'ignore': invalid regex '(unclosed'"),
        ("title = ", "front matter is not valid TOML"),
    ],
)
def test_bad_front_matter_names_the_file_and_key(
    tmp_path: Path, front_matter: str, expected: str
) -> None:
    path = write(tmp_path, "bad.txt", f"+++\n{front_matter}\n+++\nBody text.\n")
    with pytest.raises(ConfigError) as caught:
        load_seeds(tmp_path)
    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


def test_unclosed_front_matter_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "open.txt", '+++\ntitle = "x"\nBody text.\n')
    with pytest.raises(ConfigError, match="never closed") as caught:
        load_seeds(tmp_path)
    assert str(path) in str(caught.value)


def test_invalid_utf8_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Caf\u00e9 au lait.".encode("latin-1"))
    with pytest.raises(ConfigError, match="not valid UTF-8") as caught:
        load_seeds(tmp_path)
    assert str(path) in str(caught.value)


def test_two_files_with_one_id_and_empty_seeds_are_errors(tmp_path: Path) -> None:
    write(tmp_path, "same.txt", "Text.")
    write(tmp_path, "same.md", "Text.")
    with pytest.raises(ConfigError, match="seed id 'same' is also used"):
        load_seeds(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    path = write(empty, "blank.txt", "+++\ntitle = 'Nothing'\n+++\n\n")
    with pytest.raises(ConfigError, match="no text") as caught:
        load_seeds(empty)
    assert str(path) in str(caught.value)


def test_a_bad_global_ignore_pattern_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", "Text.")
    with pytest.raises(ConfigError, match="invalid regex"):
        load_seeds(tmp_path, ["[unclosed"])


def test_markdown_seed_reads_as_its_plain_text(tmp_path: Path, seed: Seed) -> None:
    paragraphs = seed_paragraphs(seed)
    marked = [
        f"**{paragraphs[0]}**",
        paragraphs[1].replace("outsource", "*outsource*"),
        paragraphs[2].replace("mega prison", "[mega prison](https://example.com/cecot)"),
        *(f"> {p}" if i == 3 else p for i, p in enumerate(paragraphs[3:], start=3)),
    ]
    # Soft-wrapped: the last paragraph's sentence runs over two lines.
    last = marked[-1]
    middle = len(last) // 2
    cut = last.index(" ", middle)
    marked[-1] = f"{last[:cut]}\n{last[cut + 1 :]}"
    document = "# El Salvador offers to jail deportees\n\n" + "\n\n---\n\n".join(marked[:2])
    document += "\n\n" + "\n\n".join(marked[2:]) + "\n"
    write(tmp_path, "story.md", document)
    (markdown,) = load_seeds(tmp_path)
    assert markdown.title == "El Salvador offers to jail deportees"
    assert markdown.text == seed.text
    found = SeedIndex([markdown]).match(republished(seed))
    assert found is not None and found.seed_id == "story"


def test_markdown_headings_and_lists_become_paragraphs(tmp_path: Path) -> None:
    write(
        tmp_path,
        "notes.md",
        "+++\ntitle = 'Front matter wins'\n+++\n# Heading one\n\nIntro __text__ here.\n"
        "## Background\n- first `point`\n- second \\*point\\*\n![chart](c.png) After.\n"
        "[ref]: https://example.com\n",
    )
    (seed,) = load_seeds(tmp_path)
    assert seed.title == "Front matter wins"
    assert seed.text == "Intro text here.\n\nBackground\n\nfirst point\n\nsecond *point* After."


# --- linking ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "builder", "measures"),
    [
        ("republished", republished, ("containment of the seed 1.00 >= 0.50",)),
        ("rewritten", rewritten, ("containment of the seed 0.86 >= 0.50", "tf-idf cosine")),
        ("shortened", shortened, ("containment of the article 1.00 >= 0.60",)),
    ],
)
def test_versions_of_the_seed_link_with_their_reasons(
    index: SeedIndex, seed: Seed, case: str, builder: object, measures: tuple[str, ...]
) -> None:
    text = seed_variants(seed)[case]
    found = index.match(text, url="https://other.example/news/1", feed="world")
    assert found is not None, case
    assert found.seed_id == SEED_ID
    for reason in measures:
        assert any(r.startswith(reason) for r in found.reasons), (reason, found.reasons)
    assert found.reasons[-1].startswith(f"margin {found.score:.2f} on ")
    assert found.reasons[-1].endswith(" (no other candidate) >= 0.10")
    assert found.score >= 0.85


def test_shortened_links_only_by_containment_of_the_article(index: SeedIndex, seed: Seed) -> None:
    found = index.match(shortened(seed))
    assert found is not None
    assert found.reasons == (
        "containment of the article 1.00 >= 0.60",
        "margin 1.00 on containment of the article (no other candidate) >= 0.10",
    )
    assert found.score == 1.0


def test_heavy_rewording_links_by_cosine(index: SeedIndex, seed: Seed) -> None:
    found = index.match(seed_variants(seed)["reworded 30%"])
    assert found is not None
    assert found.reasons[0].startswith("tf-idf cosine 0.")
    assert found.reasons[1].startswith("margin 0.")
    assert len(found.reasons) == 2


@pytest.mark.parametrize("name", sorted({**NEWSROOM_STORIES, **SAME_TOPIC}))
def test_other_stories_do_not_link(index: SeedIndex, seed: Seed, name: str) -> None:
    text = {**NEWSROOM_STORIES, **SAME_TOPIC}[name]
    assert index.match(text) is None
    # Far below every threshold, not just under one.
    measures = index.measure(seed.id, text)
    assert measures["seed_containment"] < 0.1
    assert measures["article_containment"] < 0.2
    assert measures["cosine"] < 0.45


def test_no_corpus_article_links_to_the_seed(index: SeedIndex, bodies: dict[str, str]) -> None:
    linked = [key for key, body in bodies.items() if index.match(body) is not None]
    assert linked == []
    assert len(bodies) == 181


def test_corpus_articles_link_only_to_themselves(seed: Seed, bodies: dict[str, str]) -> None:
    keys = list(bodies)
    halves = keys[:90], keys[90:]
    indexes = [SeedIndex([seed, *(body_seed(k, bodies[k]) for k in half)]) for half in halves]
    false_links = [
        (key, found.seed_id)
        for index, other in ((indexes[1], halves[0]), (indexes[0], halves[1]))
        for key in other
        if (found := index.match(bodies[key])) is not None
    ]
    assert false_links == []
    missed = [
        key
        for n, key in enumerate(halves[0])
        if (found := indexes[0].match(edited(bodies[key], n))) is None
        or found.seed_id != f"corpus-{key[:12]}"
    ]
    assert missed == []


def test_url_links_whatever_the_text(seed: Seed) -> None:
    with_url = Seed(seed.id, seed.path, seed.text, url="https://nbs.example/world/el-salvador")
    index = SeedIndex([with_url])
    for kwargs in (
        {"url": "https://NBS.example/world/el-salvador?utm_medium=feed#comments"},
        {
            "url": "https://mirror.example/x",
            "canonical_url": "https://nbs.example/world/el-salvador",
        },
    ):
        found = index.match("Page not found.", **kwargs)
        assert found is not None
        assert (found.seed_id, found.score, found.reasons) == (seed.id, 1.0, (URL_REASON,))
    assert index.match("Page not found.", url="https://nbs.example/world/other") is None


def test_feeds_restrict_which_articles_link(seed: Seed) -> None:
    restricted = Seed(
        seed.id, seed.path, seed.text, url="https://nbs.example/story", feeds=("world",)
    )
    index = SeedIndex([restricted])
    text = republished(seed)
    assert index.match(text, feed="world") is not None
    assert index.match(text, feed="politics") is None
    assert index.match(text) is None
    assert index.match("Short.", url="https://nbs.example/story", feed="politics") is None
    assert index.match("Short.", url="https://nbs.example/story", feed="world") is not None


def test_short_texts_never_link_by_content(index: SeedIndex, seed: Seed) -> None:
    excerpt = " ".join(seed.text.split()[:35])
    assert index.match(excerpt) is None
    assert index.match(" ".join(seed.text.split()[:60])) is not None


def test_a_seed_match_threshold_replaces_the_main_one(seed: Seed) -> None:
    text = rewritten(seed)  # containment of the seed 0.86
    strict = SeedIndex([Seed(seed.id, seed.path, seed.text, match=0.9)])
    found = strict.match(text)
    assert found is not None  # still linked, by the other measures
    assert not any(r.startswith("containment of the seed") for r in found.reasons)
    lenient = SeedIndex([Seed(seed.id, seed.path, seed.text, match=0.8)])
    found = lenient.match(text)
    assert found is not None
    assert "containment of the seed 0.86 >= 0.80" in found.reasons
    only_seed = MatchParams(article_containment=1, jaccard=1, cosine=1)
    assert (
        SeedIndex([Seed(seed.id, seed.path, seed.text, match=0.9)], only_seed).match(text) is None
    )


def test_near_identical_seeds_are_ambiguous(seed: Seed) -> None:
    """Decision: an article that two seeds fit almost equally links to neither."""
    paragraphs = seed_paragraphs(seed)
    one_changed = Seed("twin", "twin.txt", "\n\n".join([*paragraphs[:-1], "A new ending."]))
    index = SeedIndex([seed, one_changed])
    assert index.match(republished(seed)) is None
    assert index.match(shortened(seed)) is None  # contained in both


def test_the_clearly_better_seed_wins(seed: Seed) -> None:
    paragraphs = seed_paragraphs(seed)
    cousin = Seed("cousin", "cousin.txt", "\n\n".join(paragraphs[:9]))  # the first half only
    index = SeedIndex([seed, cousin])
    found = index.match(republished(seed))
    assert found is not None
    assert found.seed_id == SEED_ID
    # Both seeds lie whole inside the article (containment of the seed 1.00 each), but only
    # the real one covers the article: the lead is on a measure that sees both directions.
    assert index.measure("cousin", republished(seed))["seed_containment"] == 1.0
    assert "containment of the seed 1.00 >= 0.50" in found.reasons
    assert re.fullmatch(r"margin 0\.[3-9]\d on jaccard over cousin >= 0\.10", found.reasons[-1])


def test_empty_index_and_bad_params() -> None:
    assert SeedIndex([]).match("Anything at all. " * 20) is None
    with pytest.raises(ValueError):
        MatchParams(cosine=1.5)
    with pytest.raises(ValueError):
        MatchParams(num_perm=32, bands=5)


# --- drift --------------------------------------------------------------------------------

ADDED = "A Salvadoran official said: “The first transfers could begin within weeks.”"
REMOVED_QUOTE = (
    "I don’t care what Bukele says, the United States cannot legally banish Americans — such "
    "authorities died centuries ago,"
)


def test_drift_reports_exactly_the_changed_sentences(seed: Seed) -> None:
    paragraphs = seed_paragraphs(seed)
    removed = next(p for p in paragraphs if REMOVED_QUOTE in p)
    original = next(p for p in paragraphs if "30,000" in p).split(". ")[0] + "."
    changed = original.replace("30,000", "40,000")
    variant = [p.replace(original, changed) for p in paragraphs if p != removed]
    variant.insert(4, ADDED)
    text = "\n\n".join(variant)

    sentences = drift_sentences(seed, text)
    assert [(s.status, s.old, s.new) for s in sentences] == [
        (SentenceStatus.ADDED, None, ADDED),
        (SentenceStatus.DELETED, removed, None),
        (SentenceStatus.EDITED, original, changed),
    ]
    drift = compute_drift(seed, text)
    assert drift.seed_id == SEED_ID
    assert (drift.sentences_added, drift.sentences_removed, drift.sentences_edited) == (1, 1, 1)
    assert (drift.numbers_added, drift.numbers_removed) == (("40,000",), ("30,000",))
    assert drift.quotes_added == ("The first transfers could begin within weeks.",)
    assert drift.quotes_removed == (REMOVED_QUOTE,)
    assert 0.9 < drift.similarity < 1


def test_no_drift_from_the_seed_itself(seed: Seed) -> None:
    assert drift_sentences(seed, seed.text) == ()
    drift = compute_drift(seed, seed.text)
    assert drift.similarity == 1.0
    assert drift == type(drift)(seed_id=SEED_ID, similarity=1.0)


def test_figures_and_quotes_compare_as_multisets() -> None:
    seed = Seed("s", "s.txt", "Up 5% to 30,000. Down 5% again. He said “stay home” twice.")
    drift = compute_drift(seed, "Up 5% to 30,000 and 31,000. He said “stay  home”, “go”.")
    assert drift.numbers_added == ("31,000",)
    assert drift.numbers_removed == ("5",)
    assert drift.quotes_added == ("go",)  # “stay  home” is “stay home”: spacing is ignored
    assert drift.quotes_removed == ()


def test_drift_ignores_the_boilerplate_the_seed_ignores(seed: Seed) -> None:
    """The demo newsroom's edit of the seed page, boilerplate line included."""
    assert seed.ignore == SEED_IGNORE  # the global patterns are kept with the seed
    lines = [line for line in SEED_FILE.read_text(encoding="utf-8").splitlines() if line]
    assert lines[-1].startswith("Watch NBS news on YouTube")
    at = next(i for i, line in enumerate(lines) if "30,000" in line)
    lines[at] = f"{lines[at].replace('30,000', '40,000')} {SEED_ADDED_SENTENCE}"
    page = "\n\n".join(lines)

    found = SeedIndex([seed]).match(page)
    assert found is not None and found.seed_id == SEED_ID
    changes = drift_sentences(seed, page)
    assert [(s.status, s.new) for s in changes if s.status != SentenceStatus.EDITED] == [
        (SentenceStatus.ADDED, SEED_ADDED_SENTENCE)
    ]
    drift = compute_drift(seed, page)
    assert (drift.sentences_added, drift.sentences_removed, drift.sentences_edited) == (1, 0, 1)
    assert (drift.numbers_added, drift.numbers_removed) == (("40,000",), ("30,000",))
