"""A publish run that dies: runs the real deliver stage and SIGKILLs its own process right after the
channel's N-th successful ``send`` returned — after the far side has the item, before the ledger
records it. Used by the crash tests (WordPress and newsletter) as a separate process.

    python crash_child.py CONFIG ITEMS_JSON CHANNEL KILL_AFTER
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from channels_support import item_from_json

from syndication.context import RunContext
from syndication.deliveries import stage


class KillAfterSend:
    def __init__(self, inner: Any, kill_after: int) -> None:
        self._inner = inner
        self._left = kill_after

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def send(self, payload: Any, **kwargs: Any) -> Any:
        receipt = self._inner.send(payload, **kwargs)
        self._left -= 1
        if self._left <= 0:
            sys.stdout.write(f"sent {payload.target or payload.summary}; killing myself\n")
            sys.stdout.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        return receipt


def main(config: str, items_path: str, channel: str, kill_after: str) -> None:
    items = {int(k): item_from_json(v) for k, v in json.loads(Path(items_path).read_text()).items()}
    stage.approved_item = lambda session, translation_id: items[translation_id]  # type: ignore[assignment]
    ctx = RunContext.open(config)
    channels = ctx.channels()
    channels[channel] = KillAfterSend(channels[channel], int(kill_after))
    stage.deliver_approved(ctx, sleep=lambda _: None)
    sys.stdout.write("finished without being killed\n")


if __name__ == "__main__":
    main(*sys.argv[1:5])
