"""A diff as a JSON-ready dict with a stable key order, for ``--json`` output and webhooks."""

from __future__ import annotations

from typing import Any

from monitor.models import DiffDocument, DiffOp, SentenceDiff
from monitor.serialize import format_timestamp, stats_to_json

SCHEMA_VERSION = 1


def diff_to_json(doc: DiffDocument) -> dict[str, Any]:
    """Everything in the document; ops as ``[op, text]`` pairs, -1/0/1 as in diff-match-patch."""
    body = doc.diff.body
    return {
        "schema": SCHEMA_VERSION,
        "article_id": doc.article_id,
        "feed": doc.feed,
        "url": doc.url,
        "title": doc.title,
        "old": {
            "label": doc.old_label,
            "version": doc.old_version,
            "time": format_timestamp(doc.old_time),
        },
        "new": {
            "label": doc.new_label,
            "version": doc.new_version,
            "time": format_timestamp(doc.new_time),
        },
        "significance": str(doc.classification.significance),
        "tags": list(doc.classification.tags),
        "stats": stats_to_json(body.stats),
        "fields": [
            {"field": change.field, "old": change.old, "new": change.new}
            for change in doc.diff.fields
        ],
        "timed_out": body.timed_out,
        "ops": ops_to_json(body.ops),
        "sentences": [sentence_to_json(s) for s in body.sentences],
    }


def ops_to_json(ops: tuple[DiffOp, ...]) -> list[list[int | str]]:
    return [[int(op), text] for op, text in ops]


def sentence_to_json(sentence: SentenceDiff) -> dict[str, Any]:
    return {
        "status": str(sentence.status),
        "old": sentence.old,
        "new": sentence.new,
        "old_index": sentence.old_index,
        "new_index": sentence.new_index,
        "paragraph": sentence.paragraph,
        "similarity": sentence.similarity,
        "ops": ops_to_json(sentence.ops),
    }
