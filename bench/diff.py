"""Speed of the word diff and the sentence alignment on a long article with scattered edits.

Usage: ``python -m bench.diff [--words N] [--edit-rate R] [--runs N]``. Builds a ~6,000-word
text from the article bodies of the extraction benchmark's ground truth (or, without it,
from generated sentences), edits 5% of its words (replacements, insertions and deletions at
random places, with a fixed seed), and prints the median and 90th percentile time of
``word_diff``, ``align_sentences`` and ``diff_texts`` against the targets.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from monitor.diff import align_sentences, diff_texts, word_diff

CORPUS = (
    Path(__file__).resolve().parents[1].parent
    / "shared/corpora/article_extraction_benchmark/ground-truth.json"
)
WORD_DIFF_TARGET_MS = 10.0
TOTAL_TARGET_MS = 50.0  # word diff and sentence alignment together
_WORD = re.compile(r"\S+")


def corpus_text(words: int) -> str:
    """Article bodies joined as paragraphs until the text has ``words`` words."""
    try:
        bodies = json.loads(CORPUS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        print(f"note: {CORPUS} not readable, using generated text")
        return generated_text(words)
    paragraphs: list[str] = []
    count = 0
    for key in sorted(bodies):
        for paragraph in str(bodies[key].get("articleBody") or "").split("\n"):
            paragraph = " ".join(paragraph.split())
            if not paragraph:
                continue
            paragraphs.append(paragraph)
            count += len(paragraph.split())
            if count >= words:
                return "\n\n".join(paragraphs)
    return "\n\n".join(paragraphs)


def generated_text(words: int) -> str:
    """Plausible sentences from a small vocabulary, for when the corpus is missing."""
    rng = random.Random(7)
    vocabulary = [
        *("the", "council", "said", "on", "Tuesday", "that", "its", "budget", "for"),
        *("harbour", "works", "would", "rise", "by", "3.5%", "after", "months", "of"),
        *("talks", "with", "unions", "officials", "and", "residents", "who", "opposed"),
    ]
    paragraphs = []
    count = 0
    while count < words:
        sentences = []
        for _ in range(rng.randint(2, 5)):
            body = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(8, 30)))
            sentences.append(body[0].upper() + body[1:] + ".")
        paragraph = " ".join(sentences)
        paragraphs.append(paragraph)
        count += len(paragraph.split())
    return "\n\n".join(paragraphs)


def edit(text: str, rate: float, seed: int = 42) -> str:
    """Replace, insert or delete ``rate`` of the words of text, at random places."""
    rng = random.Random(seed)
    spans = [match.span() for match in _WORD.finditer(text)]
    chosen = sorted(rng.sample(range(len(spans)), int(len(spans) * rate)), reverse=True)
    for index in chosen:
        start, end = spans[index]
        action = rng.choice(("replace", "insert", "delete"))
        if action == "replace":
            text = text[:start] + f"edit{index}" + text[end:]
        elif action == "insert":
            text = text[:end] + f" added{index}" + text[end:]
        else:
            text = text[:start] + text[end:].lstrip(" ")
    return text


def timings(function: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median and 90th percentile of ``runs`` calls, in milliseconds."""
    function()  # warm caches (the word-character class, the C extension)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.9))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=6000)
    parser.add_argument("--edit-rate", type=float, default=0.05)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    old = corpus_text(args.words)
    new = edit(old, args.edit_rate)
    result = diff_texts(old, new)
    print(
        f"{len(old.split())} words, {len(result.sentences)} sentence entries, "
        f"{result.stats.words_added} words added, {result.stats.words_removed} removed, "
        f"{result.stats.sentences_edited} sentences edited, similarity "
        f"{result.stats.similarity:.3f}, timed out: {result.timed_out}"
    )
    rows = (
        ("word_diff", lambda: word_diff(old, new), WORD_DIFF_TARGET_MS),
        ("align_sentences", lambda: align_sentences(old, new), None),
        ("diff_texts (both)", lambda: diff_texts(old, new), TOTAL_TARGET_MS),
    )
    for name, function, target in rows:
        median, p90 = timings(function, args.runs)
        verdict = ""
        if target is not None:
            verdict = f"  target {target:.0f} ms: {'PASS' if median <= target else 'FAIL'}"
        print(f"{name:<18} median {median:7.2f} ms  p90 {p90:7.2f} ms{verdict}")


if __name__ == "__main__":
    main()
