"""An SMTP server that drops the connection after the final dot (issue 10).

75 subscribers, one approved post, aiosmtpd in its own process taking each message and closing the
connection instead of answering ``250``. One deliver run, then a second (the probe):

- ``smtp_drop_handed_over_before_pause``: messages the server received before the channel paused
  (must be 1: that message is ``uncertain``, the other 74 wait for the next run);
- ``smtp_drop_probe_next_run``: messages handed over by the next run while the server still drops
  (must be 1 again);
- ``smtp_drop_run_seconds``: the first run's wall time (was 241 s with three in-run attempts per
  message against a server dropping at DATA).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.channels_bench import _free_port, newsletter_store

SUBSCRIBERS = 75

_DROPPING_SINK = """
import sys
from aiosmtpd.controller import Controller
log = open(sys.argv[2], "a", buffering=1)
class DropsAfterData:
    async def handle_DATA(self, server, session, envelope):
        log.write(",".join(envelope.rcpt_tos) + "\\n")
        server.transport.close()
        return "250 OK"
controller = Controller(DropsAfterData(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
"""


def run() -> list[tuple[str, float, str]]:
    from syndication.context import RunContext
    from syndication.deliveries import stage
    from syndication.settings import load_settings

    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        received = tmp / "received.txt"
        received.touch()
        port = _free_port()
        sink = subprocess.Popen(
            [sys.executable, "-c", _DROPPING_SINK, str(port), str(received)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
            store, item, _config = newsletter_store(tmp, port, SUBSCRIBERS)
            env = {"SYNDICATION__CHANNELS__NEWS__SECRET": "bench"}
            original = stage.approved_item
            stage.approved_item = lambda session, translation_id: item  # type: ignore[assignment]
            try:
                ctx = RunContext(settings=load_settings(tmp / "bench.toml", environ=env), store=store)
                started = time.perf_counter()
                stage.deliver_approved(ctx)
                first_run = time.perf_counter() - started
                first = len(received.read_text().splitlines())
                assert ctx.summary.deliveries_deferred == SUBSCRIBERS - first, ctx.summary
                ctx = RunContext(settings=load_settings(tmp / "bench.toml", environ=env), store=store)
                stage.deliver_approved(ctx)
                second = len(received.read_text().splitlines()) - first
            finally:
                stage.approved_item = original  # type: ignore[assignment]
            store.dispose()
        finally:
            if sink.stdin is not None:
                sink.stdin.close()
            sink.wait(timeout=30)
    return [
        ("smtp_drop_handed_over_before_pause", float(first), "messages"),
        ("smtp_drop_probe_next_run", float(second), "messages"),
        ("smtp_drop_run_seconds", first_run, "s"),
    ]
