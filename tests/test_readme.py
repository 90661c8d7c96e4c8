"""The README's code is run, so the documentation cannot drift from the tool."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from monitor.alerts.webhook import sign

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def snippet(after: str) -> str:
    match = re.search(re.escape(after) + r"\s*```python\n(.*?)```", README, re.DOTALL)
    assert match, f"no python block after {after!r} in README.md"
    return match.group(1)


def test_signature_verification_snippet_accepts_our_signatures() -> None:
    namespace: dict[str, Any] = {}
    exec(snippet("To verify in Python:"), namespace)
    verify = namespace["verify"]
    secret, body, stamp = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", b'{"a": 1}', int(time.time())
    headers = {
        "webhook-id": "evt_1",
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign(secret, "evt_1", stamp, body),
    }
    assert verify(secret, headers, body)
    assert not verify(secret, headers, body + b" ")
    assert not verify(secret, {**headers, "webhook-timestamp": str(stamp - 3600)}, body)
    plain = {**headers, "webhook-signature": sign("plain secret", "evt_1", stamp, body)}
    assert verify("plain secret", plain, body)


def test_architecture_names_every_module() -> None:
    """The README's drawing of the house lists each module (render/ as one room)."""
    section = README.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    package = Path(__file__).resolve().parents[1] / "monitor"
    missing = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package)
        if "migrations" in relative.parts or path.name in ("__init__.py", "__main__.py"):
            continue
        if relative.parts[0] == "render":
            continue  # one room: its renderers are described together
        if path.name not in section:
            missing.append(str(relative))
    assert "render/" in section
    assert missing == []
