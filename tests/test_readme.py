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
