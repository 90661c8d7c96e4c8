"""Every corpus feed parses without crash or hang, with feedparser 6.0.14's entry counts."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPORA = REPO.parent / "shared" / "corpora"


def _load_bench() -> ModuleType:
    """Import bench/feed_corpus.py by path: bench/ is a folder of scripts, not a package."""
    name = "bench_feed_corpus"
    spec = importlib.util.spec_from_file_location(name, REPO / "bench" / "feed_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while being created
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(
    not (CORPORA / "feedparser_tests").is_dir() or not (CORPORA / "real_feeds").is_dir(),
    reason=f"feed corpora not found under {CORPORA}",
)
def test_feed_corpus_counts_match_feedparser() -> None:
    bench = _load_bench()
    report = bench.run_corpus(CORPORA)
    assert report.crashes == []
    assert report.mismatches == []
    assert report.files == len(bench.load_corpus(CORPORA))
