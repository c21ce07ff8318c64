"""Run every benchmark (or those named) and print one ``name value unit`` line per figure."""

from __future__ import annotations

import importlib
import os
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    here = Path(__file__).parent
    names = sorted(p.stem for p in here.glob("*_bench.py"))
    wanted = [n for n in names if not argv or any(a in n for a in argv)]
    if not wanted:
        print(f"no benchmark matches {argv}; available: {', '.join(names)}", file=sys.stderr)
        return 2
    print(f"# python -m bench  {time.strftime('%Y-%m-%d %H:%M')}  cpus={os.cpu_count()}")
    for name in wanted:
        module = importlib.import_module(f"bench.{name}")
        print(f"# {name}", flush=True)
        for figure, value, unit in module.run():
            print(f"{figure} {value:.4g} {unit}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
