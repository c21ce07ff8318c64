"""``python -m syndication.orchestration.worker [prefect worker start options]``: a Prefect worker
that stops on one SIGTERM (or Ctrl-C) and lets the flow runs it started finish.
``scripts/worker.sh`` and ``contrib/systemd/syndication-worker.service`` run it.

Two things go wrong with a bare ``prefect worker start`` (Prefect 3.9):

- Started in the background of a shell script (``worker.sh &`` in a non-interactive shell,
  ``nohup`` …) it inherits SIGINT *ignored*: shells set SIGINT and SIGQUIT to SIG_IGN for
  background jobs when job control is off, ``exec`` keeps it, and a shell cannot undo it
  (``trap - INT`` is refused for a signal ignored at the shell's start). Prefect's worker stops
  by turning SIGTERM into SIGINT, so it ignored SIGTERM and kept taking runs.
- When it does stop, it kills the flow-run processes it started; they die without reporting, and
  their runs stay "Running" (holding the deployment's concurrency slot) until something marks
  them Crashed.

So this launcher is a small supervisor. It puts the signals back to their defaults, starts the
worker as a child in its own process group (a terminal's Ctrl-C reaches only us), and becomes the
"subreaper" of everything under it. On the first SIGTERM/SIGINT it kills the worker outright
(SIGKILL: no more runs are taken, and the worker has no chance to kill its runs); the flow-run
processes — each in a session of its own, reporting to the Prefect API themselves — carry on,
are adopted by us, and we exit when the last one has finished. A second SIGTERM/SIGINT stops those
runs too (SIGTERM: Prefect's engine marks them Crashed) and we exit when they are gone. A service
manager's stop timeout bounds the whole; a run killed after it is found by the zombie-run
automation (docs/operations.md).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType

POOL = "syndication"
RESTORED = (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM)
PR_SET_CHILD_SUBREAPER = 36


def worker_command(args: list[str]) -> list[str]:
    if not any(arg in ("--pool", "-p") or arg.startswith("--pool=") for arg in args):
        args = ["--pool", os.environ.get("SYNDICATION_POOL") or POOL, *args]
    return [sys.executable, "-m", "prefect", "worker", "start", *args]


def _say(message: str) -> None:
    print(f"syndication worker: {message}", file=sys.stderr, flush=True)


def _children(parent: int | None = None) -> list[int]:
    """Live children of ``parent`` (default: ours — the worker, and flow-run processes adopted after
    it died)."""
    me = os.getpid() if parent is None else parent
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me and fields[0] != "Z":
            found.append(int(entry.name))
    return found


class Supervisor:
    def __init__(self, command: list[str]) -> None:
        self.command = command
        self.worker: subprocess.Popen[bytes] | None = None
        self.stops = 0
        self.worker_status: int | None = None

    def run(self) -> int:
        for signum in RESTORED:
            # Handlers do not survive exec (SIG_IGN would): the worker starts with defaults.
            signal.signal(signum, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        if sys.platform == "linux":
            # Orphaned flow-run processes become our children, so we can wait for them.
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        self.worker = subprocess.Popen(self.command, process_group=0)
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop)
        while True:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            except OSError as exc:  # pragma: no cover - EINTR is retried by Python itself
                if exc.errno != errno.EINTR:
                    raise
                continue
            if pid == self.worker.pid:
                self.worker_status = os.waitstatus_to_exitcode(status)
                if not self.stops:
                    _say(f"the Prefect worker exited ({self.worker_status}); waiting for its flow runs")
        if self.stops:
            return 0
        return self.worker_status if self.worker_status and self.worker_status > 0 else 1

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        self.stops += 1
        worker = self.worker
        if self.stops == 1:
            runs = [pid for pid in _children() if worker is None or pid != worker.pid]
            if worker is not None and self.worker_status is None:
                runs += _children(worker.pid)
                worker.kill()
            _say(
                f"{signal.Signals(signum).name}: the worker takes no more runs; "
                f"{len(runs)} flow run process(es) finish first (signal again to stop them now)"
            )
            return
        for pid in _children():
            if worker is not None and pid == worker.pid:
                continue
            try:
                os.killpg(pid, signal.SIGTERM)  # a flow-run process leads its own group
            except (ProcessLookupError, PermissionError):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
        _say(f"{signal.Signals(signum).name} again: stopping the flow runs in flight (they end Crashed)")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    sys.exit(Supervisor(worker_command(args)).run())


if __name__ == "__main__":
    main()
