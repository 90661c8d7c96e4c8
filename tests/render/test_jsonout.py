"""A diff as JSON: stable keys, and both texts rebuilt from its ops."""

from __future__ import annotations

import json
from dataclasses import fields

from monitor.models import DiffStats
from monitor.render.jsonout import SCHEMA_VERSION, diff_to_json
from tests.render.documents import TIMED_OUT_DOC, make_doc


def test_json_round_trips_and_rebuilds_both_texts() -> None:
    document = diff_to_json(make_doc())
    assert json.loads(json.dumps(document)) == document
    assert document["schema"] == SCHEMA_VERSION == 1
    assert list(document) == [
        "schema",
        "article_id",
        "feed",
        "url",
        "title",
        "old",
        "new",
        "significance",
        "tags",
        "stats",
        "fields",
        "timed_out",
        "ops",
        "sentences",
    ]
    assert document["old"] == {"label": "v1", "version": 1, "time": "2026-11-28T12:00:00Z"}
    assert document["significance"] == "major"
    assert list(document["stats"]) == [f.name for f in fields(DiffStats)]
    assert document["fields"] == [
        {"field": "headline", "old": "Storm kills 12", "new": "Storm kills 15"}
    ]
    ops = document["ops"]
    old = "".join(text for op, text in ops if op != 1)
    new = "".join(text for op, text in ops if op != -1)
    assert old == (
        "Rain fell all day. The toll rose to 12. Officials declined to comment.\n\n"
        "Roads were closed."
    )
    assert (
        new == "Rain fell all day. The toll rose to 15.\n\nRoads were closed.\n\nA shelter opened."
    )
    edited = document["sentences"][1]
    assert edited == {
        "status": "edited",
        "old": "The toll rose to 12.",
        "new": "The toll rose to 15.",
        "old_index": 1,
        "new_index": 1,
        "paragraph": 0,
        "similarity": 0.75,
        "ops": [[0, "The toll rose to "], [-1, "12"], [1, "15"], [0, "."]],
    }
    assert diff_to_json(TIMED_OUT_DOC)["timed_out"] is True
