"""The commands docs/many-workbooks.md gives work as written: the CI matrix's steps, every line."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import typer
from typer.core import TyperGroup

from briefing.cli import app

MANY = Path(__file__).resolve().parent.parent / "docs" / "many-workbooks.md"


def step_script(step: str, **expressions: str) -> str:
    """The shell script of the workflow step whose first line is `step` (`- id: list`), its
    GitHub expressions (`${{ matrix.workbook }}`) replaced by `expressions`."""
    lines = MANY.read_text(encoding="utf-8").splitlines()
    start = next(number for number, line in enumerate(lines) if line.strip() == step)
    run = next(line for line in lines[start + 1 :] if line.strip().startswith("run:"))
    indent = len(run) - len(run.lstrip())
    first = run.strip().removeprefix("run:").strip()
    if first.startswith("|"):
        body = []
        for line in lines[lines.index(run, start) + 1 :]:
            if line.strip() and len(line) - len(line.lstrip()) <= indent:
                break
            body.append(line.strip())
        script = "\n".join(body)
    else:
        script = first
    for name, value in expressions.items():
        script = script.replace("${{ " + name + " }}", value)
    assert "${{" not in script, script
    return script


def run_step(script: str, folder: Path) -> str:
    """What the step wrote to $GITHUB_OUTPUT, run by bash as GitHub runs it (`bash -e`)."""
    output = folder / "github-output"
    output.touch()
    subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=folder,
        env={**os.environ, "GITHUB_OUTPUT": str(output)},
        check=True,
    )
    return output.read_text(encoding="utf-8")


@pytest.mark.skipif(shutil.which("jq") is None, reason="the step uses jq, which is missing")
def test_the_ci_matrix_lists_every_workbook_and_no_owner_file(tmp_path: Path) -> None:
    desks = tmp_path / "desks"
    (desks / "older").mkdir(parents=True)
    for name in ("moscow.ods", "kyiv.xlsx", "~$kyiv.xlsx", ".~lock.moscow.ods#", "notes.txt"):
        (desks / name).write_bytes(b"x")
    (desks / "older" / "g7.xlsx").write_bytes(b"x")
    written = run_step(step_script("- id: list"), tmp_path)
    assert written == 'workbooks=["desks/kyiv.xlsx","desks/moscow.ods"]\n'


@pytest.mark.parametrize(
    ("workbook", "stem"), [("desks/kyiv.xlsx", "kyiv"), ("desks/moscow.ods", "moscow")]
)
def test_the_ci_matrix_names_each_memo_for_its_workbook(
    tmp_path: Path, workbook: str, stem: str
) -> None:
    script = step_script("- id: name", **{"matrix.workbook": workbook})
    assert run_step(script, tmp_path) == f"stem={stem}\n"


def briefing_lines() -> list[list[str]]:
    """Every `briefing check` or `briefing build` the page gives, as the words after
    `briefing`, GitHub expressions standing as they are."""
    found = []
    for line in MANY.read_text(encoding="utf-8").splitlines():
        match = re.search(r"(?:^|[\s/`])briefing ((?:check|build) [^`]*)", line)
        if match:
            found.append(shlex.split(match[1]))
    return found


def test_every_briefing_line_of_the_page_is_a_command_that_parses() -> None:
    lines = briefing_lines()
    assert len(lines) == 7, lines
    for words in lines:
        command = typer.main.get_command(app)
        assert isinstance(command, TyperGroup)
        subcommand = command.commands[words[0]]
        subcommand.make_context(subcommand.name, words[1:])
