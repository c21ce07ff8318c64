"""Stage log records into the Prefect run log, each line naming its post, language and channel.

The stages log through ``logging.getLogger("syndication.…")`` with ``extra={"post": …, "lang": …,
"channel": …}`` and know nothing about Prefect. Inside a task, :func:`forward_to_run_logger` attaches
a handler to the ``syndication`` logger that re-emits each record through Prefect's run logger (so it
reaches the API and the UI with the task run) as::

    post=https://blog.example.dk/?p=412 lang=nb channel=outbox | publish sent to file://…

with ``-`` for what a line is not about. Only records of the thread that opened the block are
forwarded: tasks running side by side in threads do not get each other's lines.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

ITEM_FIELDS = ("post", "lang", "channel")
PACKAGE_LOGGER = "syndication"


def item_prefix(values: Mapping[str, Any] | logging.LogRecord) -> str:
    """``post=… lang=… channel=…`` from a record's (or a mapping's) item fields; ``-`` when unset."""
    get = values.get if isinstance(values, Mapping) else (lambda key: getattr(values, key, None))
    return " ".join(f"{name}={get(name) or '-'}" for name in ITEM_FIELDS)


def item_line(record: logging.LogRecord) -> str:
    return f"{item_prefix(record)} | {record.getMessage()}"


class ItemFormatter(logging.Formatter):
    """For plain (non-Prefect) use: ``LEVEL logger: post=… lang=… channel=… | message``."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname} {record.name}: {item_line(record)}"


class RunLogHandler(logging.Handler):
    """Re-emits records through a Prefect run logger (a ``LoggerAdapter``) with the item prefix."""

    def __init__(self, run_logger: logging.Logger | logging.LoggerAdapter[Any], thread: int) -> None:
        super().__init__()
        self.run_logger = run_logger
        self.thread = thread

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread:
            return
        try:
            extra = {name: getattr(record, name, None) for name in ITEM_FIELDS}
            self.run_logger.log(record.levelno, "%s", item_line(record), extra={"syndication": extra})
        except Exception:  # logging must never break a run
            self.handleError(record)


_state_lock = threading.Lock()
_active = 0
_saved: tuple[int, bool] = (logging.NOTSET, True)


@contextmanager
def forward_to_run_logger(level: int = logging.INFO) -> Iterator[None]:
    """Inside a Prefect task or flow run: the ``syndication`` loggers' records at ``level`` and
    above go to the run's log (and only there: they would otherwise print twice, once through
    Prefect's console handler for the run logger and once through the root logger's). Outside a
    run this does nothing."""
    global _active, _saved
    try:
        from prefect.exceptions import MissingContextError
        from prefect.logging import get_run_logger

        run_logger = get_run_logger()
    except (ImportError, MissingContextError):
        yield
        return
    package = logging.getLogger(PACKAGE_LOGGER)
    handler = RunLogHandler(run_logger, threading.get_ident())
    handler.setLevel(level)
    with _state_lock:
        # Tasks in threads of one process share the logger: the first one in sets it up, the last
        # one out puts it back.
        if _active == 0:
            _saved = (package.level, package.propagate)
            if package.level == logging.NOTSET or package.level > level:
                package.setLevel(level)
            package.propagate = False
        _active += 1
        package.addHandler(handler)
    try:
        yield
    finally:
        with _state_lock:
            package.removeHandler(handler)
            _active -= 1
            if _active == 0:
                package.setLevel(_saved[0])
                package.propagate = _saved[1]
