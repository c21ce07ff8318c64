"""Flow files stay thin: importing them does no I/O beyond reading Python modules, and they import
only Prefect, their parameter types and the package's orchestration entry points."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FLOWS = sorted((ROOT / "flows").glob("*.py"))

PROBE = r"""
import json, sys
ROOT = sys.argv[1]
events = []
def hook(event, args):
    if event == "open":
        if isinstance(args[0], int):
            return  # an already open descriptor
        path = str(args[0])
        if path.startswith("__editable__."):
            return  # the sys.path hook of an editable install (`pip install -e .`), not a file
        # Python's own files, installed packages and the time-zone database are what imports read.
        if path.startswith((sys.prefix, sys.base_prefix, "/usr/share/zoneinfo", "/usr/lib/python3",
                            "/dev/", "/proc/", ROOT)) or "site-packages" in path:
            return
        events.append(("open", path))
    elif event in ("socket.connect", "socket.bind", "subprocess.Popen", "os.system"):
        events.append((event, str(args[:2])))
sys.addaudithook(hook)
import flows.syndicate, flows.publish, flows.backfill  # noqa
print(json.dumps(events))
"""


def test_importing_the_flows_does_no_io(tmp_path):
    env = {"PYTHONPATH": str(ROOT), "PREFECT_HOME": str(tmp_path / "prefect"), "PATH": "/usr/bin:/bin"}
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(ROOT)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    events = json.loads(result.stdout.strip().splitlines()[-1])
    # Directory listings for imports are fine; a config, a database, a socket or a process is not.
    suspicious = [e for e in events if e[0] != "open" or not Path(e[1]).is_dir()]
    assert suspicious == [], suspicious
    assert not (tmp_path / "syndication.db").exists()


ALLOWED_IMPORTS = {
    "__future__",
    "argparse",
    "json",
    "typing",
    "datetime",
    "uuid",
    "prefect",
    "flows.params",
    "syndication.orchestration.artifacts",
    "syndication.orchestration.outcome",
    "syndication.orchestration.pipeline_lock",
    "syndication.orchestration.report",
    "syndication.orchestration.runners",
    "syndication.orchestration.tasks",
    "syndication.pipeline",
    "syndication.settings",
    "syndication.summary",
}


def test_flow_files_import_no_business_modules():
    for path in FLOWS:
        if path.name in ("__init__.py", "params.py"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        modules |= {
            alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
        }
        assert modules <= ALLOWED_IMPORTS, (path.name, modules - ALLOWED_IMPORTS)


def test_flow_task_bodies_are_one_call():
    # Every task is one stage: its body is a single `return run_logged_stage(...)`/`report_run(...)`.
    for path in FLOWS:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            decorators = {
                getattr(d.func if isinstance(d, ast.Call) else d, "id", None) for d in node.decorator_list
            }
            if "task" in decorators:
                body = [n for n in node.body if not isinstance(n, ast.Expr)]
                assert len(body) == 1 and isinstance(body[0], ast.Return), (path.name, node.name)
