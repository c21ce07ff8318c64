"""Review: a database status per (post revision, language), decided by editors or a policy."""

from syndication.review.actions import approve, edit_segment, reject, retract_post
from syndication.review.queries import (
    ItemDetail,
    QueueItem,
    SegmentView,
    current_translation,
    item_detail,
    list_items,
    resolve_post,
)

__all__ = [
    "ItemDetail",
    "QueueItem",
    "SegmentView",
    "approve",
    "current_translation",
    "edit_segment",
    "item_detail",
    "list_items",
    "reject",
    "resolve_post",
    "retract_post",
]
