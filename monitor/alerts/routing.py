"""Alert routing: which changes reach which channel, decided from the channel's config.

Pure: a change and a channel's ``[[alerts]]`` table in, yes or no out; ``outbox_rows``
turns the changes a check saves into the outbox rows written in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from monitor.alerts.payload import build_event, change_page_url, event_id_for, event_type
from monitor.config import FLIP_FLOP_TAG, AlertChannelConfig, Settings
from monitor.models import Alert, Change, ChangeKind, DiffDocument, Significance


def accepts(
    channel: AlertChannelConfig, change: Change, seed_id: str | None, default_min: str
) -> bool:
    """Whether ``change`` goes to ``channel``.

    ``seed_id`` is the seed the article is linked to (``change.seed_id`` when None);
    ``default_min`` is the feed's ``alert_significance``, used when the channel sets
    no ``min_significance``. The threshold applies to changed and reverted events,
    the only ones with a significance; an A/B test's second and later flips (tagged
    "flip-flop" by the pipeline) are never alerted.
    """
    if channel.feeds and change.feed not in channel.feeds:
        return False
    seed = seed_id if seed_id is not None else change.seed_id
    if channel.seeds and seed not in channel.seeds:
        return False
    if str(change.kind) not in channel.kinds:
        return False
    if change.kind == ChangeKind.REVERTED and FLIP_FLOP_TAG in change.tags:
        return False
    if change.kind in (ChangeKind.CHANGED, ChangeKind.REVERTED) and change.significance:
        threshold = Significance(channel.min_significance or default_min)
        return Significance(change.significance).rank >= threshold.rank
    return True


def outbox_rows(
    settings: Settings,
    saved: Sequence[Change],
    documents: Mapping[int, DiffDocument],
    now: datetime,
) -> list[Alert]:
    """The outbox rows for just-saved changes: one per change and accepting channel.

    ``documents`` maps a change's position in ``saved`` to its diff (for the payload).
    """
    alerts = []
    for index, change in enumerate(saved):
        threshold = settings.rules(change.feed).alert_significance
        for channel in settings.alerts:
            if not accepts(channel, change, None, threshold):
                continue
            event_id = event_id_for(change, channel.name)
            alerts.append(
                Alert(
                    id=0,
                    event_id=event_id,
                    channel=channel.name,
                    event_type=event_type(change),
                    payload=build_event(
                        change,
                        event_id,
                        documents.get(index),
                        now,
                        change_page_url(settings.web.base_url, change),
                    ),
                    created_at=now,
                    change_id=change.id,
                    next_attempt=now,
                    digest=channel.digest is not None,
                )
            )
    return alerts
