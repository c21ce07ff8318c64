"""Review: a database status per (post revision, language), decided by editors or a policy."""

from syndication.review.actions import approve, edit_segment, reject, retract_post
from syndication.review.queries import (
    ItemDetail,
    QueueItem,
    QueuePage,
    SegmentView,
    awaiting_per_language,
    count_items,
    current_per_state,
    current_translation,
    item_detail,
    list_items,
    queue_page,
    resolve_post,
)

__all__ = [
    "ItemDetail",
    "QueueItem",
    "QueuePage",
    "SegmentView",
    "approve",
    "awaiting_per_language",
    "count_items",
    "current_per_state",
    "current_translation",
    "edit_segment",
    "item_detail",
    "list_items",
    "queue_page",
    "reject",
    "resolve_post",
    "retract_post",
]
