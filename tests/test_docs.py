"""The README's promises, checked: the two commands CI runs, and the CLI tour matches the CLI."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from syndication.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def first_code_block(text: str) -> list[str]:
    block = re.search(r"```sh\n(.*?)```", text, re.S)
    assert block, "README must open with a shell block"
    return [line for line in block.group(1).splitlines() if line and not line.startswith("#")]


def test_readme_opens_with_demo_and_test_commands_and_ci_runs_the_latter():
    demo, tests = first_code_block(README)
    assert demo == "bash scripts/setup.sh && .venv/bin/syndicate demo"
    assert tests.startswith("bash scripts/setup.sh --test && ") and "pytest" in tests
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    ci_commands = [
        line for line in ci.splitlines() if line and not line.startswith(("#", "set ", "cd ", "export "))
    ]
    assert ci_commands[-1] == tests


def test_every_command_in_the_readme_tour_exists():
    tour = re.findall(r"^syndicate ([a-z]+)(?: ([a-z]+))?", README, re.M)
    assert len(tour) >= 8
    runner = CliRunner()
    for command, sub in tour:
        args = [command] + (
            [sub] if sub and command in ("review", "deliveries", "models", "users", "subscribers") else []
        )
        result = runner.invoke(main, [*args, "--help"])
        assert result.exit_code == 0, (args, result.output)


def test_help_does_not_import_the_heavy_stack():
    # `syndicate --help` must start fast: Prefect, SQLAlchemy and CTranslate2 load only when used.
    code = (
        "import sys; from syndication.cli import main\n"
        "heavy = ('prefect', 'sqlalchemy', 'ctranslate2', 'trafilatura', 'feedparser')\n"
        "heavy = [m for m in heavy if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == ""
