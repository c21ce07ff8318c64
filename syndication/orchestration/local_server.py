"""The temporary Prefect server of a command-line flow run, tied to the command's life.

``syndicate run`` / ``publish`` / ``demo`` run their flow in the terminal's process. With no Prefect
API configured, Prefect itself would start a temporary server (``SubprocessASGIServer``: a
``uvicorn`` child it stops from an ``atexit`` hook), so a command killed with SIGKILL (or a
SIGTERM Python does not handle) left that uvicorn running for good, one orphan per crash. We start
the same server ourselves instead, in a child that asks the kernel for SIGTERM when its parent dies
(Linux ``PR_SET_PDEATHSIG``, kept across ``exec``), and point Prefect at it with
``PREFECT_API_URL``. A normal exit, an exception or Ctrl-C stops it as before.

When ``PREFECT_API_URL`` is set (in the environment or the active Prefect profile) nothing starts:
the flow runs against that server.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

STARTUP_TIMEOUT_VARIABLE = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"

# Runs in the server's process before it becomes uvicorn: the kernel sends SIGTERM when the command
# (our parent) dies, and exec keeps that. If the parent died before prctl, exit at once.
_LAUNCH = """
import ctypes, os, signal, sys
parent = int(sys.argv[1])
if sys.platform == "linux":
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
if os.getppid() != parent:
    sys.exit(0)
os.execv(sys.argv[2], sys.argv[2:])
"""


class TemporaryServerError(RuntimeError):
    """The temporary Prefect server did not answer in time (or exited)."""


@contextmanager
def prefect_api_for_command() -> Iterator[str | None]:
    """The Prefect API a command's flow run talks to: the configured one, else a temporary server
    that lives as long as the ``with`` block and no longer than this process. Yields its URL (or
    ``None`` when one is configured). Call before the flow's first Prefect client is made."""
    if os.environ.get("PREFECT_API_URL"):
        yield None
        return
    from prefect.settings import Settings

    if Settings().api.url:  # a profile or prefect.toml names a server
        yield None
        return
    server = _TemporaryServer()
    server.start(float(os.environ.get(STARTUP_TIMEOUT_VARIABLE) or 20))
    try:
        _point_prefect_at(server.api_url)
        try:
            yield server.api_url
        finally:
            _point_prefect_at(None)
    finally:
        server.stop()


def _point_prefect_at(api_url: str | None) -> None:
    """Prefect reads its settings once into a global context: set the variable and refresh it."""
    from prefect.context import refresh_global_settings_context

    if api_url is None:
        os.environ.pop("PREFECT_API_URL", None)
    else:
        os.environ["PREFECT_API_URL"] = api_url
    refresh_global_settings_context()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _TemporaryServer:
    def __init__(self) -> None:
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log: IO[bytes] | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def _spawn(self) -> subprocess.Popen[bytes]:
        import prefect
        from prefect.settings import get_current_settings

        self.port = _free_port()
        uvicorn = [
            sys.executable, "-m", "uvicorn",
            "--app-dir", str(prefect.__module_path__.parent),
            "--factory", "prefect.server.api.server:create_app",
            "--host", "127.0.0.1", "--port", str(self.port),
            "--log-level", "error", "--lifespan", "on",
        ]  # fmt: skip
        # The same server Prefect's own temporary one is (its settings, no UI, ephemeral mode).
        env = {
            **os.environ,
            **get_current_settings().to_environment_variables(exclude_unset=True),
            "PREFECT_UI_ENABLED": "0",
            "PREFECT__SERVER_EPHEMERAL": "1",
            "PREFECT__SERVER_FINAL": "1",
        }
        env.pop("PREFECT_API_URL", None)
        assert self.log is not None
        return subprocess.Popen(
            [sys.executable, "-c", _LAUNCH, str(os.getpid()), *uvicorn],
            env=env,
            stdin=subprocess.DEVNULL,
            # Never on our stdout: `--json` output stays one JSON object.
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )

    def start(self, timeout: float) -> None:
        import httpx

        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - the server writes it until stop()
        self.process = self._spawn()
        deadline = time.monotonic() + timeout
        respawns = 2
        with httpx.Client(timeout=2) as client:
            while True:
                try:
                    if client.get(f"{self.api_url}/health").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                code = self.process.poll()
                if code is not None and respawns and time.monotonic() < deadline:
                    # Most likely the port was taken between our probe and uvicorn's bind.
                    respawns -= 1
                    self.process = self._spawn()
                    continue
                if code is not None or time.monotonic() >= deadline:
                    detail = self._failure_detail(code)
                    self.stop()
                    raise TemporaryServerError(
                        f"the temporary Prefect server did not answer within {timeout:g} s{detail}"
                    )
                time.sleep(0.1)

    def _failure_detail(self, code: int | None) -> str:
        if code is None or self.log is None:
            return ""
        self.log.seek(0)
        tail = self.log.read()[-2000:].decode("utf-8", "replace").strip()
        return f" (it exited with code {code}: {tail})" if tail else f" (it exited with code {code})"

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.log is not None:
            self.log.close()
            self.log = None
