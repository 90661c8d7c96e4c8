"""The scale bench's own measuring parts (bench/run_all.py)."""

from __future__ import annotations

import subprocess
import sys
import time

from bench.run_all import TreeRSS

GROW = (
    "import subprocess, sys, time\n"
    "child = subprocess.Popen([sys.executable, '-c', "
    "'import time; b = bytearray(60_000_000); time.sleep(1.2)'])\n"
    "time.sleep(0.3); b = bytearray(40_000_000); child.wait()\n"
)


def test_tree_memory_counts_every_process_and_reads_pss_only_now_and_then() -> None:
    """The peak includes a child's memory, yet PSS (a page-table walk) is read on new highs
    and once a second, not on every 50 ms tick."""
    process = subprocess.Popen([sys.executable, "-c", GROW])
    started = time.monotonic()
    sampler = TreeRSS(process.pid)
    process.wait()
    sampler.done.set()
    sampler.join()
    ticks = (time.monotonic() - started) / 0.05
    assert sampler.peak_kb > 90_000  # 60 MB in the child and 40 MB in the parent, at once
    assert 0 < sampler.pss_reads < ticks / 2
