"""CPU the daemon uses while idle: 100 feeds configured, then a quiet minute.

Usage: ``python -m bench.daemon_idle [--feeds 100] [--seconds 60]``. Starts
`newsmonitor run` against feeds served on loopback (interval 1 h, so after the first round
nothing is due), waits for the first round to finish, then prints the CPU seconds
(user + system, from /proc) the process used over the idle period. Target: under 1 s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.webserver import Reply, WebServer

ROOT = Path(__file__).resolve().parents[1]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    web = WebServer().start()
    feed = '<rss version="2.0"><channel><title>quiet</title></channel></rss>'
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "monitor.toml"
        tables = []
        for n in range(args.feeds):
            web.set(f"/feed/{n}", Reply(feed, etag=f'"{n}"'))
            tables.append(
                f'[[feeds]]\nname = "f{n}"\nurl = "{web.url(f"/feed/{n}")}"\ninterval = "1h"\n'
            )
        config.write_text(
            "".join(tables)
            + "[fetch]\nallow_private_addresses = true\n"
            + f'[storage]\nurl = "sqlite:///{Path(tmp) / "m.db"}"\n'
        )
        daemon = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "run"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 120
            while len(web.requests) < args.feeds and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(3)  # let the first round's writes settle
            before = cpu_seconds(daemon.pid)
            time.sleep(args.seconds)
            used = cpu_seconds(daemon.pid) - before
        finally:
            daemon.terminate()
            daemon.wait(30)
            web.stop()
    verdict = "PASS" if used < args.seconds / 60 else "FAIL"
    print(
        f"{args.feeds} feeds, {args.seconds:.0f} idle seconds: {used:.2f} CPU seconds "
        f"(target < {args.seconds / 60:.2f}) {verdict}"
    )


if __name__ == "__main__":
    main()
