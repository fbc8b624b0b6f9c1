"""The command line, driven as a user would: exact output, exact errors, exit codes."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import openpyxl
import pytest
import typer.main
from typer.core import TyperGroup
from typer.testing import CliRunner

from briefing import cli
from briefing.cli import app
from briefing.errors import WorkbookUnreadable
from tests.conftest import (
    CLI,
    ROOT,
    SEED_WORKBOOK,
    WAIT,
    InstallOffice,
    cell,
    complete_pdf,
    coordinate,
    extra_cell,
    field_cell,
    in_thread,
    interruptible,
    next_save,
    save_as_excel_does,
    saving,
    write_fake_office,
)

MakeWorkbook = Callable[..., Path]


def test_init_writes_a_workbook_and_refuses_to_overwrite(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "desk.xlsx"
    result = runner.invoke(app, ["init", str(path)])
    assert (result.exit_code, result.stdout) == (0, f"Wrote {path}\n")
    before = path.read_bytes()
    again = runner.invoke(app, ["init", str(path), "--example"])
    assert again.exit_code == 1
    assert again.stderr == f"Error: {path}: already exists; use --force to replace it\n"
    assert path.read_bytes() == before
    forced = runner.invoke(app, ["init", str(path), "--example", "--force"])
    assert forced.exit_code == 0
    assert path.read_bytes() != before


def test_init_into_a_missing_folder(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "desk.xlsx"
    result = runner.invoke(app, ["init", str(path)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {path}: the folder {path.parent} does not exist; create it or choose another\n"
    )


def test_check_clean_workbook(runner: CliRunner, example_workbook: Path) -> None:
    result = runner.invoke(app, ["check", str(example_workbook)])
    assert (result.exit_code, result.stdout) == (0, f"{example_workbook}: no problems found\n")


def test_check_lists_every_problem_then_a_summary(
    runner: CliRunner, make_workbook: MakeWorkbook
) -> None:
    value, source = cell("Figures", "Value", 7), cell("Demands", "Source", 2)
    path = make_workbook({value: "eighty-seven", source: "S9"})
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 1
    assert result.stdout == (
        f"{source}: unknown source 'S9'; the Sources sheet has: S1\n"
        f"{value}: expected a number, got 'eighty-seven'\n"
        f"{path}: 2 errors, 0 warnings\n"
    )


def test_check_json(runner: CliRunner, make_workbook: MakeWorkbook) -> None:
    path = make_workbook({cell("Figures", "Value", 7): "eighty-seven"})
    result = runner.invoke(app, ["check", str(path), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "file": str(path),
        "errors": 1,
        "warnings": 0,
        "problems": [
            {
                "sheet": "Figures",
                "cell": coordinate("Figures", "Value", 7),
                "severity": "error",
                "message": "expected a number, got 'eighty-seven'",
            }
        ],
    }


def test_warnings_pass_unless_strict(runner: CliRunner, make_workbook: MakeWorkbook) -> None:
    analyst = extra_cell("Figures", 1)
    path = make_workbook({analyst: "Analyst"})
    expected = (
        f"{analyst}: warning: column 'Analyst' is not part of the schema and is ignored\n"
        f"{path}: 0 errors, 1 warning\n"
    )
    plain = runner.invoke(app, ["check", str(path)])
    assert (plain.exit_code, plain.stdout) == (0, expected)
    strict = runner.invoke(app, ["check", str(path), "--strict"])
    assert (strict.exit_code, strict.stdout) == (1, expected)


def test_check_unreadable_file_is_one_line(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "figures.xlsx"
    path.write_text("ID,Value\nF1,87\n")
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {path}: not an Excel workbook (it looks like a text or CSV file); open it in "
        "Excel or LibreOffice and save it as an .xlsx workbook\n"
    )
    assert "Traceback" not in result.output


def test_wrong_usage_exits_2(runner: CliRunner) -> None:
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 2
    assert "Missing argument" in result.output


def test_build_writes_next_to_the_current_folder_by_default(
    runner: CliRunner, example_workbook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "out"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = runner.invoke(app, ["build", str(example_workbook)])
    assert (result.exit_code, result.stdout) == (0, "Wrote desk.docx\n")
    assert (elsewhere / "desk.docx").stat().st_size > 10_000


def test_build_with_output_and_template(
    runner: CliRunner, example_workbook: Path, tmp_path: Path
) -> None:
    template = tmp_path / "house.docx"
    made = runner.invoke(app, ["template", "new", str(template)])
    assert (made.exit_code, made.stdout) == (0, f"Wrote {template}\n")
    out = tmp_path / "memo.docx"
    result = runner.invoke(
        app, ["build", str(example_workbook), "-o", str(out), "-t", str(template)]
    )
    assert (result.exit_code, result.stdout) == (0, f"Wrote {out}\n")


def test_failed_build_prints_problems_and_keeps_the_earlier_memo(
    runner: CliRunner, make_workbook: MakeWorkbook, tmp_path: Path
) -> None:
    good = make_workbook()
    out = tmp_path / "memo.docx"
    assert runner.invoke(app, ["build", str(good), "-o", str(out)]).exit_code == 0
    earlier = out.read_bytes()
    bad = make_workbook({cell("Figures", "Value", 7): "eighty-seven"}, name="bad.xlsx")
    result = runner.invoke(app, ["build", str(bad), "-o", str(out)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"{cell('Figures', 'Value', 7)}: expected a number, got 'eighty-seven'\n"
        f"Error: {bad}: the workbook has 1 error; nothing was written\n"
    )
    assert out.read_bytes() == earlier
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.xlsx", "desk.xlsx", "memo.docx"]


def test_build_prints_warnings_and_goes_on(
    runner: CliRunner, make_workbook: MakeWorkbook, tmp_path: Path
) -> None:
    analyst = extra_cell("Figures", 1)
    path = make_workbook({analyst: "Analyst"})
    out = tmp_path / "memo.docx"
    result = runner.invoke(app, ["build", str(path), "-o", str(out)])
    assert result.exit_code == 0
    assert result.stderr == (
        f"{analyst}: warning: column 'Analyst' is not part of the schema and is ignored\n"
    )
    assert result.stdout == f"Wrote {out}\n"


def test_build_template_mistake_keeps_the_earlier_memo(
    runner: CliRunner, example_workbook: Path, tmp_path: Path
) -> None:
    from docx import Document

    out = tmp_path / "memo.docx"
    out.write_bytes(b"an earlier memo")
    template = tmp_path / "typo.docx"
    document = Document()
    document.add_paragraph("{{ titel }}")
    document.save(str(template))
    result = runner.invoke(
        app, ["build", str(example_workbook), "-o", str(out), "-t", str(template)]
    )
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {template}: unknown variable 'titel' in tag {{{{ titel }}}} near "
        "'{{ titel }}'; 'briefing template check' lists the variables a template can use\n"
    )
    assert out.read_bytes() == b"an earlier memo"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        pytest.param(
            "missing/memo.docx",
            "the folder {tmp}/missing does not exist; create it or choose another",
            id="missing-folder",
        ),
        pytest.param(
            "folder", "is a folder; give a file name, such as {tmp}/folder/memo.docx", id="folder"
        ),
    ],
)
def test_build_output_problems(
    runner: CliRunner, example_workbook: Path, tmp_path: Path, target: str, expected: str
) -> None:
    (tmp_path / "folder").mkdir()
    out = tmp_path / target
    result = runner.invoke(app, ["build", str(example_workbook), "-o", str(out)])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {out}: {expected.format(tmp=tmp_path)}\n"


def test_build_into_a_read_only_folder(
    runner: CliRunner, example_workbook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Root ignores folder permissions (CI runs as root), so the refusal is simulated.
    def refuse(**kwargs: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("briefing.output.tempfile.mkstemp", refuse)
    out = tmp_path / "memo.docx"
    result = runner.invoke(app, ["build", str(example_workbook), "-o", str(out)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {out}: cannot write in {tmp_path} (Permission denied); choose another folder\n"
    )


def test_disk_full_leaves_no_partial_memo(
    runner: CliRunner, example_workbook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "memo.docx"
    out.write_bytes(b"an earlier memo")

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("briefing.output.os.fsync", full)
    result = runner.invoke(app, ["build", str(example_workbook), "-o", str(out)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {out}: cannot be written (No space left on device); nothing was changed\n"
    )
    assert out.read_bytes() == b"an earlier memo"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["desk.xlsx", "memo.docx"]


def test_check_and_build_leave_the_workbook_untouched(
    runner: CliRunner, example_workbook: Path, tmp_path: Path
) -> None:
    before = example_workbook.read_bytes()
    stamp = example_workbook.stat().st_mtime_ns
    assert runner.invoke(app, ["check", str(example_workbook)]).exit_code == 0
    built = runner.invoke(app, ["build", str(example_workbook), "-o", str(tmp_path / "m.docx")])
    assert built.exit_code == 0
    assert example_workbook.read_bytes() == before
    assert example_workbook.stat().st_mtime_ns == stamp


def test_template_check(runner: CliRunner, tmp_path: Path) -> None:
    template = tmp_path / "copy.docx"
    runner.invoke(app, ["template", "new", str(template)])
    clean = runner.invoke(app, ["template", "check", str(template)])
    assert (clean.exit_code, clean.stdout) == (0, f"{template}: no problems found\n")
    missing = runner.invoke(app, ["template", "check", str(tmp_path / "nope.docx")])
    assert missing.exit_code == 1
    assert missing.stderr == (
        f"Error: {tmp_path / 'nope.docx'}: the template does not exist; give a .docx file\n"
    )


def test_seed_workbook_builds(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "seed.docx"
    result = runner.invoke(app, ["build", str(SEED_WORKBOOK), "-o", str(out)])
    assert (result.exit_code, result.stderr) == (0, "")


def test_written_files_get_ordinary_permissions(
    runner: CliRunner, example_workbook: Path, tmp_path: Path
) -> None:
    old = os.umask(0o022)
    try:
        out = tmp_path / "memo.docx"
        runner.invoke(app, ["build", str(example_workbook), "-o", str(out)])
        assert out.stat().st_mode & 0o777 == 0o644
        out.chmod(0o640)
        runner.invoke(app, ["build", str(example_workbook), "-o", str(out)])
        assert out.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(old)


@pytest.mark.parametrize(
    "lock", ["~$memo.docx", "~$mo.docx", ".~lock.memo.docx#"], ids=["excel", "word", "libreoffice"]
)
def test_build_refuses_a_memo_open_in_an_office_program(
    runner: CliRunner, example_workbook: Path, tmp_path: Path, lock: str
) -> None:
    out = tmp_path / "memo.docx"
    out.write_bytes(b"the memo being read")
    (tmp_path / lock).write_bytes(b"owner")
    result = runner.invoke(app, ["build", str(example_workbook), "-o", str(out)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {out}: the file is open in an office program ({lock} is beside it); close it "
        "and try again\n"
    )
    assert out.read_bytes() == b"the memo being read"


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        pytest.param(
            "desk.xlsx",
            "is the file the command reads ({workbook}); choose another output name",
            id="the-workbook",
        ),
        pytest.param(
            "memo.txt", "give a file name ending in .docx, such as memo.docx", id="not-docx"
        ),
    ],
)
def test_build_never_writes_over_its_inputs(
    runner: CliRunner, example_workbook: Path, output: str, expected: str
) -> None:
    before = example_workbook.read_bytes()
    out = example_workbook.parent / output
    result = runner.invoke(app, ["build", str(example_workbook), "-o", str(out)])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {out}: {expected.format(workbook=example_workbook)}\n"
    assert example_workbook.read_bytes() == before


def test_build_never_writes_over_its_template(
    runner: CliRunner, example_workbook: Path, tmp_path: Path
) -> None:
    template = tmp_path / "house.docx"
    runner.invoke(app, ["template", "new", str(template)])
    before = template.read_bytes()
    result = runner.invoke(
        app, ["build", str(example_workbook), "-t", str(template), "-o", str(template)]
    )
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {template}: is the file the command reads ({template}); choose another "
        "output name\n"
    )
    assert template.read_bytes() == before


def test_upper_case_docx_suffix_is_fine(
    runner: CliRunner, example_workbook: Path, tmp_path: Path
) -> None:
    out = tmp_path / "MEMO.DOCX"
    result = runner.invoke(app, ["build", str(example_workbook), "-o", str(out)])
    assert (result.exit_code, result.stdout) == (0, f"Wrote {out}\n")


def test_a_title_longer_than_word_properties_hold(
    runner: CliRunner, make_workbook: Callable[..., Path], tmp_path: Path
) -> None:
    from docx import Document

    title = "Ceasefire " * 60
    out = tmp_path / "memo.docx"
    result = runner.invoke(
        app, ["build", str(make_workbook({field_cell("Title"): title})), "-o", str(out)]
    )
    assert result.exit_code == 0
    document = Document(str(out))
    assert document.core_properties.title == title.strip()[:254] + "…"
    assert document.paragraphs[0].text == title.strip()


def test_check_json_on_an_unreadable_file(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    path.write_bytes(b"")
    result = runner.invoke(app, ["check", str(path), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "file": str(path),
        "error": f"{path}: the file is empty (0 bytes); it is not a workbook",
    }


def test_check_prints_at_most_200_problems(runner: CliRunner, make_workbook: MakeWorkbook) -> None:
    path = make_workbook({cell("Timeline", "Date", row): "not a date" for row in range(2, 13)})
    book = openpyxl.load_workbook(path)
    for row in range(20, 80):  # 60 demands with an ID and nothing else: 4 errors each
        book["Demands"][coordinate("Demands", "ID", row)] = f"X{row}"
    book.save(path)
    everything = json.loads(runner.invoke(app, ["check", str(path), "--json"]).stdout)
    assert everything["errors"] == 11 + 60 * 4
    result = runner.invoke(app, ["check", str(path)])
    lines = result.stdout.splitlines()
    assert result.exit_code == 1
    assert len(lines) == 202
    assert lines[:200] == [
        f"{p['sheet']}!{p['cell']}: {p['message']}" for p in everything["problems"][:200]
    ]
    assert lines[200] == "… and 51 more problems (--json lists them all)"
    assert lines[201] == f"{path}: 251 errors, 0 warnings"


def test_build_email_draft_attaches_the_memo(
    runner: CliRunner, example_workbook: Path, tmp_path: Path
) -> None:
    import email
    from email import policy

    out = tmp_path / "memo.docx"
    result = runner.invoke(app, ["build", str(example_workbook), "-o", str(out), "--email"])
    assert result.exit_code == 0
    assert result.stdout == f"Wrote {out}\nWrote {tmp_path / 'memo.eml'}\n"
    message = email.message_from_bytes((tmp_path / "memo.eml").read_bytes(), policy=policy.default)
    assert message["To"] == "desk-editor@example.org"
    assert message["Subject"] == (
        "[TLP:CLEAR] Putin's 14 June 2024 conditions for a ceasefire in Ukraine and reactions "
        "from Kyiv, Washington and NATO"
    )
    assert message["X-Unsent"] == "1"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    assert body.get_content().startswith("TLP:CLEAR — Disclosure is not limited.\n")
    assert "On 14 June 2024 Putin offered an immediate ceasefire" in body.get_content()
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == (
        "2024-06-14 Putin's ceasefire terms - surrender four regions and drop NATO bid.docx"
    )
    assert attachment.get_content() == out.read_bytes()


def test_build_email_needs_addresses(
    runner: CliRunner, make_workbook: MakeWorkbook, tmp_path: Path
) -> None:
    path = make_workbook({field_cell("Email to"): None})
    out = tmp_path / "memo.docx"
    result = runner.invoke(app, ["build", str(path), "-o", str(out), "--email"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {path}: --email needs the addresses in the Briefing sheet's 'Email to' field\n"
    )
    assert not out.exists()


def test_build_date_overrides_the_briefing_date(
    runner: CliRunner, example_workbook: Path, tmp_path: Path
) -> None:
    from tests.conftest import memo_text

    out = tmp_path / "memo.docx"
    result = runner.invoke(
        app,
        ["build", str(example_workbook), "-o", str(out), "--date", "2024-06-15", "--days", "2"],
    )
    assert result.exit_code == 0
    lines = memo_text(out).splitlines()
    assert "DATE: | 15 June 2024" in lines
    assert "INFORMATION AS OF: | 15 June 2024 (records of 14–15 June 2024)" in lines
    wrong = runner.invoke(app, ["build", str(example_workbook), "--date", "tomorrow"])
    assert wrong.exit_code == 2
    assert "'tomorrow' is not a date; write it as 2024-06-14" in wrong.output
    no_days = runner.invoke(app, ["build", str(example_workbook), "--days", "0"])
    assert no_days.exit_code == 2


def test_build_for_a_day_without_records_is_one_line(
    runner: CliRunner, example_workbook: Path, tmp_path: Path
) -> None:
    out = tmp_path / "memo.docx"
    result = runner.invoke(
        app, ["build", str(example_workbook), "-o", str(out), "--date", "2024-06-20"]
    )
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {example_workbook}: no reactions or figures dated 20 June 2024 (the "
        "workbook's dated records are all of 14 June 2024); choose another --date, or more "
        "--days\n"
    )
    assert not out.exists()


def test_build_checks_every_output_before_writing_any(
    runner: CliRunner, example_workbook: Path, tmp_path: Path
) -> None:
    out = tmp_path / "memo.docx"
    out.write_bytes(b"the earlier memo")
    (tmp_path / ".~lock.memo.pdf#").write_bytes(b"owner")
    result = runner.invoke(app, ["build", str(example_workbook), "-o", str(out), "--pdf"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {tmp_path / 'memo.pdf'}: the file is open in an office program "
        "(.~lock.memo.pdf# is beside it); close it and try again\n"
    )
    assert out.read_bytes() == b"the earlier memo"


def test_email_headers_take_no_line_breaks(
    runner: CliRunner, make_workbook: MakeWorkbook, tmp_path: Path
) -> None:
    import email
    from email import policy

    path = make_workbook(
        {
            field_cell("Subject"): "Ceasefire\nterms",
            field_cell("Email to"): "a@example.org,\nb@example.org",
        }
    )
    out = tmp_path / "memo.docx"
    result = runner.invoke(app, ["build", str(path), "-o", str(out), "--email"])
    assert result.exit_code == 0
    message = email.message_from_bytes((tmp_path / "memo.eml").read_bytes(), policy=policy.default)
    assert message["Subject"] == "[TLP:CLEAR] Ceasefire terms"
    assert message["To"] == "a@example.org, b@example.org"


def test_a_failed_build_prints_at_most_200_problems(
    runner: CliRunner, make_workbook: MakeWorkbook, tmp_path: Path
) -> None:
    path = make_workbook()
    book = openpyxl.load_workbook(path)
    for row in range(20, 80):  # 60 demands with an ID and nothing else: 4 errors each
        book["Demands"][coordinate("Demands", "ID", row)] = f"X{row}"
    book.save(path)
    result = runner.invoke(app, ["build", str(path), "-o", str(tmp_path / "memo.docx")])
    lines = result.stderr.splitlines()
    assert result.exit_code == 1
    assert len(lines) == 202
    assert lines[200] == "… and 40 more problems ('briefing check --json' lists them all)"
    assert lines[201] == f"Error: {path}: the workbook has 240 errors; nothing was written"


def test_run_turns_an_unforeseen_failure_into_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def broken(path: Path, **options: object) -> None:
        raise RuntimeError("disk\nvanished")

    monkeypatch.setattr("briefing.pipeline.check_workbook", broken)
    monkeypatch.setattr("sys.argv", ["briefing", "check", str(tmp_path / "desk.xlsx")])
    with pytest.raises(SystemExit) as exited:
        cli.run()
    assert exited.value.code == 1
    assert capsys.readouterr().err == (
        "Error: unexpected failure (RuntimeError: disk vanished); run the command again with "
        "--debug and report what it shows\n"
    )


INTERRUPTED_LINE = (
    "Error: interrupted (Ctrl-C), and no file was left half-written; run the command again to "
    "finish it\n"
)


@pytest.mark.parametrize(
    ("step", "command"),
    [
        pytest.param("init_workbook", ["init", "{folder}/desk.xlsx"], id="init"),
        pytest.param("check_workbook", ["check", "{folder}/desk.xlsx"], id="check"),
        pytest.param("build_memo", ["build", "{folder}/desk.xlsx"], id="build"),
        pytest.param("extract_candidates", ["extract", "{folder}/article.txt"], id="extract"),
        pytest.param("check_template", ["template", "check", "{folder}/t.docx"], id="template"),
    ],
)
def test_ctrl_c_ends_every_command_in_one_line_and_exit_code_130(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    step: str,
    command: list[str],
) -> None:
    def interrupted(*args: object, **options: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(f"briefing.pipeline.{step}", interrupted)
    monkeypatch.setattr("sys.argv", ["briefing", *(w.format(folder=tmp_path) for w in command)])
    with pytest.raises(SystemExit) as exited:
        cli.run()
    assert exited.value.code == 130
    assert capsys.readouterr() == ("", INTERRUPTED_LINE)


def test_ctrl_c_before_the_command_starts_is_one_line_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "app", interrupted)
    with pytest.raises(SystemExit) as exited:
        cli.run()
    assert exited.value.code == 130
    assert capsys.readouterr() == ("", INTERRUPTED_LINE)


def test_run_with_debug_shows_the_unforeseen_failure(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def broken(path: Path, **options: object) -> None:
        raise RuntimeError("disk vanished")

    monkeypatch.setattr("briefing.pipeline.check_workbook", broken)
    monkeypatch.setattr("sys.argv", ["briefing", "--debug", "check", str(tmp_path / "a.xlsx")])
    with pytest.raises(RuntimeError, match="disk vanished"):
        cli.run()


def test_debug_shows_the_error_behind_a_user_mistake(runner: CliRunner, tmp_path: Path) -> None:
    missing = tmp_path / "missing.xlsx"
    plain = runner.invoke(app, ["check", str(missing)])
    assert plain.exit_code == 1
    assert plain.exception is not None
    assert isinstance(plain.exception, SystemExit)
    debug = runner.invoke(app, ["--debug", "check", str(missing)])
    assert isinstance(debug.exception, WorkbookUnreadable)
    assert str(debug.exception) == f"{missing}: no such file; check the path and try again"
    # The next command without --debug is back to one line.
    again = runner.invoke(app, ["check", str(missing)])
    assert again.stderr == f"Error: {missing}: no such file; check the path and try again\n"


def test_check_and_build_show_the_reads_progress_on_a_terminal(
    runner: CliRunner, example_workbook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from briefing import pipeline
    from briefing.model import Dossier
    from briefing.schema import SCHEMA, Schema
    from briefing.sheetxml import Progress, TerminalProgress

    given: list[object] = []
    real = pipeline.read_dossier

    def spy(path: Path, schema: Schema = SCHEMA, progress: Progress | None = None) -> Dossier:
        given.append(progress)
        return real(path, schema, progress)

    monkeypatch.setattr(pipeline, "read_dossier", spy)
    assert runner.invoke(app, ["check", str(example_workbook)]).exit_code == 0
    out = tmp_path / "memo.docx"
    assert runner.invoke(app, ["build", str(example_workbook), "-o", str(out)]).exit_code == 0
    assert [type(p) for p in given] == [TerminalProgress, TerminalProgress]
    # Not a terminal here: the progress writes nothing, and the output is only the results.
    assert all(isinstance(p, TerminalProgress) and not p.interactive for p in given)


def test_build_pdf_with_the_libreoffice_briefing_soffice_names(
    runner: CliRunner,
    example_workbook: Path,
    fake_office: InstallOffice,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    fake_office(None)  # none on the PATH, none where LibreOffice installs
    office = write_fake_office(tmp_path / "soffice-7.6", "converts")
    monkeypatch.setenv("BRIEFING_SOFFICE", str(office))
    out = tmp_path / "memo.docx"
    result = runner.invoke(app, ["build", str(example_workbook), "-o", str(out), "--pdf"])
    assert (result.exit_code, result.stdout) == (
        0,
        f"Wrote {out}\nWrote {out.with_suffix('.pdf')}\n",
    )
    assert out.with_suffix(".pdf").read_bytes() == complete_pdf(2)


# ------------------------------------------------------------------ the help, as a user reads it


def every_command() -> list[tuple[str, ...]]:
    """Each command as the words after `briefing`, groups included: (), ("template", "new")."""
    found: list[tuple[str, ...]] = []

    def walk(command: object, words: tuple[str, ...]) -> None:
        found.append(words)
        if isinstance(command, TyperGroup):
            for name, subcommand in command.commands.items():
                walk(subcommand, (*words, name))

    walk(typer.main.get_command(app), ())
    return found


def help_of(runner: CliRunner, words: Sequence[str]) -> str:
    result = runner.invoke(app, [*words, "--help"], prog_name="briefing")
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("words", every_command(), ids=lambda words: " ".join(words) or "briefing")
def test_every_help_has_an_example_that_runs_and_no_types_on_flags(
    runner: CliRunner, words: tuple[str, ...]
) -> None:
    text = help_of(runner, words)
    for leftover in ("<bool>", "BOOLEAN", "{", "}", "<path>", "<str>", "list[", "range>"):
        assert leftover not in text
    examples = re.findall(r"^  Example: (.+)$", text, re.MULTILINE)
    assert len(examples) == 1, text
    example = shlex.split(examples[0])
    assert example[: len(words) + 1] == ["briefing", *words]
    # The example parses: its command exists and takes every option and argument it gives.
    command, rest = typer.main.get_command(app), example[1:]
    while isinstance(command, TyperGroup) and rest and rest[0] in command.commands:
        command, rest = command.commands[rest[0]], rest[1:]
    assert not isinstance(command, TyperGroup), example
    command.make_context(command.name, rest)


@pytest.mark.parametrize(
    ("words", "usage", "argument"),
    [
        pytest.param((), "briefing [OPTIONS] COMMAND [ARGS]...", None, id="briefing"),
        pytest.param(("init",), "briefing init [OPTIONS] WORKBOOK", "WORKBOOK", id="init"),
        pytest.param(("check",), "briefing check [OPTIONS] WORKBOOKS...", "WORKBOOKS", id="check"),
        pytest.param(("build",), "briefing build [OPTIONS] WORKBOOKS...", "WORKBOOKS", id="build"),
        pytest.param(("watch",), "briefing watch [OPTIONS] WORKBOOK", "WORKBOOK", id="watch"),
        pytest.param(("extract",), "briefing extract [OPTIONS] ARTICLE", "ARTICLE", id="extract"),
        pytest.param(
            ("template", "new"),
            "briefing template new [OPTIONS] TEMPLATE",
            "TEMPLATE",
            id="template new",
        ),
        pytest.param(
            ("template", "check"),
            "briefing template check [OPTIONS] TEMPLATE",
            "TEMPLATE",
            id="template check",
        ),
    ],
)
def test_usage_lines_name_arguments_in_capitals(
    runner: CliRunner, words: tuple[str, ...], usage: str, argument: str | None
) -> None:
    text = help_of(runner, words)
    assert text.splitlines()[0] == f"Usage: {usage}"
    if argument is not None:
        assert re.search(rf"^Arguments:\n  {argument}  \S", text, re.MULTILINE), text


def test_flags_show_no_type(runner: CliRunner) -> None:
    text = help_of(runner, ["build"])
    assert "\n  --pdf                 Also write a PDF beside the memo" in text
    assert "\n  --email               Also write an email draft" in text


def test_options_and_arguments_show_what_they_take_not_a_python_type(runner: CliRunner) -> None:
    text = help_of(runner, ["build"])
    arguments = text.split("Arguments:\n", 1)[1].split("\n\n", 1)[0]
    assert " ".join(arguments.split()) == (
        "WORKBOOKS The workbook to build from (.xlsx or .ods); or several, or folders of them. "
        "[required]"
    )
    options = [line.split("  ")[1] for line in text.splitlines() if line.startswith("  -")]
    assert options == [
        "-o, --output PATH",
        "-t, --template FILE",
        "--date DATE",
        "--days DAYS",
        "--since WORKBOOK",
        "--pdf",
        "--email",
        "--sources-dir FOLDER",
        "--help",
    ]


def test_a_missing_argument_is_named_in_capitals(runner: CliRunner) -> None:
    result = runner.invoke(app, ["build"], prog_name="briefing")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "Usage: briefing build [OPTIONS] WORKBOOKS..."
    assert result.stderr.splitlines()[-1] == "Error: Missing argument 'WORKBOOKS'."


def test_the_command_list_gives_each_first_line_whole(runner: CliRunner) -> None:
    text = help_of(runner, [])
    assert (
        "  build     Check the workbook, then render the memo; errors stop it, warnings\n"
        "            do not.\n"
    ) in text


@pytest.mark.parametrize("words", [["--version"], ["--version", "build"]], ids=["alone", "first"])
def test_version_prints_the_installed_version(runner: CliRunner, words: list[str]) -> None:
    result = runner.invoke(app, words)
    assert (result.exit_code, result.stdout) == (0, f"briefing {version('briefing')}\n")
    assert re.fullmatch(r"briefing \d+\.\d+\.\d+\S*\n", result.stdout)


def test_version_of_a_briefing_not_installed_is_one_line(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    def not_installed(name: str) -> str:
        raise PackageNotFoundError(name)

    monkeypatch.setattr("importlib.metadata.version", not_installed)
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: briefing is not installed, so it has no version; install it with pip install . "
        "from its folder\n"
    )


def test_shell_completion_is_offered_and_completes_commands(runner: CliRunner) -> None:
    text = help_of(runner, [])
    assert "\n  --install-completion  Install completion for the current shell.\n" in text
    assert "\n  --show-completion     Show completion for the current shell" in text
    # What the installed script asks when the user presses Tab after `briefing bu`.
    asked = {"_BRIEFING_COMPLETE": "complete_bash", "COMP_WORDS": "briefing bu", "COMP_CWORD": "1"}
    result = runner.invoke(app, [], env=asked, prog_name="briefing")
    assert (result.exit_code, result.stdout) == (0, "build\n")


# ---------------------------------------------------------------------------- many workbooks

BROKEN_VALUE = cell("Figures", "Value", 7)


def desk_folder(make_workbook: MakeWorkbook, tmp_path: Path) -> Path:
    """A folder of two workbooks, one broken, and the owner files Excel and LibreOffice leave
    beside a workbook open in them."""
    folder = tmp_path / "desks"
    folder.mkdir()
    make_workbook(name="desks/good.xlsx")
    make_workbook({BROKEN_VALUE: "eighty-seven"}, name="desks/broken.xlsx")
    (folder / "~$good.xlsx").write_bytes(b"\x0bAnalyst" + bytes(150))
    (folder / ".~lock.good.xlsx#").write_text(",analyst,host,24.06.2024 09:00,file:///C:/\n")
    (folder / "notes.txt").write_text("not a workbook, and not in a workbook's name\n")
    return folder


def test_build_a_folder_past_a_broken_workbook_into_an_output_folder(
    runner: CliRunner, make_workbook: MakeWorkbook, tmp_path: Path
) -> None:
    folder = desk_folder(make_workbook, tmp_path)
    out = tmp_path / "memos"
    out.mkdir()
    result = runner.invoke(app, ["build", str(folder), "-o", str(out)])
    broken = folder / "broken.xlsx"
    assert result.exit_code == 1
    assert result.stdout == f"Wrote {out / 'good.docx'}\n"
    assert result.stderr == (
        f"{broken}: {BROKEN_VALUE}: expected a number, got 'eighty-seven'\n"
        f"Error: {broken}: the workbook has 1 error; nothing was written\n"
    )
    assert sorted(p.name for p in out.iterdir()) == ["good.docx"]


def test_build_many_workbooks_lists_every_failure_at_the_end(
    runner: CliRunner,
    make_workbook: MakeWorkbook,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = desk_folder(make_workbook, tmp_path)
    text = tmp_path / "figures.xlsx"
    text.write_text("ID,Value\nF1,87\n")
    monkeypatch.chdir(tmp_path)
    # As a shell expands desks/*.xlsx: Excel's owner file is among the names.
    named = [text, folder / "broken.xlsx", folder / "~$good.xlsx", folder / "good.xlsx"]
    result = runner.invoke(app, ["build", *map(str, named)])
    assert result.exit_code == 1
    assert result.stdout == "Wrote good.docx\n"
    broken = folder / "broken.xlsx"
    assert result.stderr.splitlines() == [
        f"{broken}: {BROKEN_VALUE}: expected a number, got 'eighty-seven'",
        f"Error: {text}: not an Excel workbook (it looks like a text or CSV file); open it in "
        "Excel or LibreOffice and save it as an .xlsx workbook",
        f"Error: {broken}: the workbook has 1 error; nothing was written",
    ]
    assert sorted(p.name for p in tmp_path.glob("*.docx")) == ["good.docx"]


def test_check_a_folder_and_a_workbook(
    runner: CliRunner, make_workbook: MakeWorkbook, tmp_path: Path
) -> None:
    folder = desk_folder(make_workbook, tmp_path)
    analyst = extra_cell("Figures", 1)
    other = make_workbook({analyst: "Analyst"}, name="other.xlsx")
    broken, good = folder / "broken.xlsx", folder / "good.xlsx"
    result = runner.invoke(app, ["check", str(folder), str(other)])
    assert result.exit_code == 1
    assert result.stdout == (
        f"{broken}: {BROKEN_VALUE}: expected a number, got 'eighty-seven'\n"
        f"{broken}: 1 error, 0 warnings\n"
        f"{good}: no problems found\n"
        f"{other}: {analyst}: warning: column 'Analyst' is not part of the schema and is ignored\n"
        f"{other}: 0 errors, 1 warning\n"
    )
    assert result.stderr == f"Error: {broken}: the workbook has 1 error\n"
    strict = runner.invoke(app, ["check", str(other), str(good), "--strict"])
    assert strict.exit_code == 1
    assert strict.stderr == (
        f"Error: {other}: the workbook has 1 warning, and --strict fails on warnings\n"
    )
    clean = runner.invoke(app, ["check", str(good), str(good)])
    assert (clean.exit_code, clean.stderr) == (0, "")


def test_check_many_as_json(runner: CliRunner, make_workbook: MakeWorkbook, tmp_path: Path) -> None:
    good = make_workbook()
    missing = tmp_path / "missing.xlsx"
    result = runner.invoke(app, ["check", str(good), str(missing), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout) == [
        {"file": str(good), "errors": 0, "warnings": 0, "problems": []},
        {"file": str(missing), "error": f"{missing}: no such file; check the path and try again"},
    ]


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        pytest.param(
            "missing-output-folder",
            "Error: {out}: does not exist; with several workbooks, -o names the folder to write "
            "their memos in, so create it or choose another\n",
            id="missing-output-folder",
        ),
        pytest.param(
            "output-is-a-file",
            "Error: {out}: is a file; with several workbooks, -o names the folder to write their "
            "memos in, so create it or choose another\n",
            id="output-is-a-file",
        ),
        pytest.param(
            "same-names",
            "Error: {first} and {second}: both would write {out}/desk.docx; rename one, or "
            "build them separately with -o\n",
            id="two-workbooks-one-memo",
        ),
        pytest.param(
            "empty-folder",
            "Error: {empty}: the folder holds no workbook (.xlsx, .ods); give a workbook, or a "
            "folder that holds them\n",
            id="empty-folder",
        ),
    ],
)
def test_a_batch_that_cannot_be_written_is_one_line_before_any_build(
    runner: CliRunner, make_workbook: MakeWorkbook, tmp_path: Path, setup: str, expected: str
) -> None:
    first = make_workbook(name="desk.xlsx")
    (tmp_path / "b").mkdir()
    second = make_workbook(name="b/desk.xlsx")
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "memos"
    if setup == "output-is-a-file":
        out.write_text("")
    elif setup != "missing-output-folder":
        out.mkdir()
    inputs = [empty] if setup == "empty-folder" else [first, second]
    result = runner.invoke(app, ["build", *map(str, inputs), "-o", str(out)])
    assert result.exit_code == 1
    assert result.stderr == expected.format(out=out, first=first, second=second, empty=empty)
    assert result.stdout == ""
    assert not list(tmp_path.rglob("*.docx"))


@pytest.mark.parametrize(
    ("words", "given"),
    [
        pytest.param(["--pdf", "true"], "2 workbooks were given (desk.xlsx, true)", id="pdf-true"),
        pytest.param(
            ["a.xlsx", "b.xlsx", "c.xlsx"],
            "4 workbooks were given (desk.xlsx, a.xlsx, b.xlsx and 1 more)",
            id="many",
        ),
    ],
)
def test_a_memo_name_for_several_workbooks_names_them(
    runner: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    words: list[str],
    given: str,
) -> None:
    """`--pdf true` makes `true` a second workbook: the error shows it."""
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["build", "desk.xlsx", *words, "-o", "memo.docx"])
    assert (result.exit_code, result.stdout, result.stderr) == (
        1,
        "",
        f"Error: memo.docx: -o names one memo, but {given}; give one workbook, or -o a folder "
        "for their memos\n",
    )
    assert list(tmp_path.iterdir()) == []


def test_a_memo_name_for_a_folder_of_workbooks_says_it_is_a_folder(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "desks").mkdir()
    shutil.copyfile(SEED_WORKBOOK, tmp_path / "desks" / "kyiv.xlsx")
    result = runner.invoke(app, ["build", "desks", "-o", "memo.docx"])
    assert (result.exit_code, result.stdout, result.stderr) == (
        1,
        "",
        f"Error: memo.docx: -o names one memo, but a folder of workbooks was given "
        f"({Path('desks', 'kyiv.xlsx')}); give one workbook, or -o a folder for their memos\n",
    )


def test_since_takes_one_workbook(runner: CliRunner, make_workbook: MakeWorkbook) -> None:
    first, second = make_workbook(name="a.xlsx"), make_workbook(name="b.xlsx")
    result = runner.invoke(app, ["build", str(first), str(second), "--since", str(first)])
    assert result.exit_code == 2
    assert "--since compares one workbook with its earlier copy" in result.output


# ---------------------------------------------------------------------------- watch

CLOCK = r"\d\d:\d\d:\d\d"


def test_watch_prints_a_line_a_build_and_stops_on_ctrl_c(
    make_workbook: MakeWorkbook, tmp_path: Path
) -> None:
    workbook = make_workbook()
    broken = make_workbook({BROKEN_VALUE: "eighty-seven"}, name="broken.xlsx").read_bytes()
    out = tmp_path / "memo.docx"
    command = [*CLI, "watch"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(
        [*command, str(workbook), "-o", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=interruptible,
    ) as watching:
        try:
            assert watching.stdout is not None
            lines, _ = in_thread(iter(watching.stdout.readline, ""))
            assert lines.get(timeout=WAIT) == (
                f"Watching {workbook}: the memo is built again each time it is saved; "
                "Ctrl-C stops\n"
            )
            assert re.fullmatch(
                rf"{CLOCK} Wrote {out}: no problems\n", str(lines.get(timeout=WAIT))
            )
            good = out.read_bytes()
            saves = saving(lambda: save_as_excel_does(workbook, broken), times=3)
            assert next_save(lines, saves, seconds=WAIT / 2) == (
                f"{BROKEN_VALUE}: expected a number, got 'eighty-seven'\n"
            )
            assert re.fullmatch(
                rf"{CLOCK} Error: {workbook}: the workbook has 1 error; nothing was written, "
                r"and the last good memo stays\n",
                str(lines.get(timeout=WAIT)),
            )
            assert out.read_bytes() == good
            watching.send_signal(signal.SIGINT)
            assert watching.wait(WAIT) == 0
            assert lines.get(timeout=WAIT) == f"Stopped watching {workbook}\n"
            assert watching.stderr is not None
            assert watching.stderr.read() == ""
        finally:  # a failed assertion must not leave the watch running, nor the test
            watching.kill()


def test_watch_from_a_broken_workbook_says_the_memo_comes_with_the_first_good_save(
    make_workbook: MakeWorkbook, tmp_path: Path
) -> None:
    workbook = make_workbook({BROKEN_VALUE: "eighty-seven"})
    good = make_workbook(name="good.xlsx").read_bytes()
    out = tmp_path / "memo.docx"
    command = [*CLI, "watch"]
    with subprocess.Popen(
        [*command, str(workbook), "-o", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        preexec_fn=interruptible,
    ) as watching:
        try:
            assert watching.stdout is not None
            lines, _ = in_thread(iter(watching.stdout.readline, ""))
            assert str(lines.get(timeout=WAIT)).startswith(f"Watching {workbook}: ")
            assert lines.get(timeout=WAIT) == (
                f"{BROKEN_VALUE}: expected a number, got 'eighty-seven'\n"
            )
            assert re.fullmatch(
                rf"{CLOCK} Error: {workbook}: the workbook has 1 error; nothing was written; "
                r"the memo is made at the first save without errors\n",
                str(lines.get(timeout=WAIT)),
            )
            assert not out.exists()
            saves = saving(lambda: save_as_excel_does(workbook, good), times=3)
            assert re.fullmatch(
                rf"{CLOCK} Wrote {out}: no problems\n",
                str(next_save(lines, saves, seconds=WAIT / 2)),
            )
            watching.send_signal(signal.SIGINT)
            assert watching.wait(WAIT) == 0
        finally:
            watching.kill()


def test_watch_given_a_folder_says_it_takes_one_workbook(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["watch", str(tmp_path)])
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: {tmp_path}: is a folder; watch takes one workbook, such as "
        f"{tmp_path / 'desk.xlsx'} (briefing build {tmp_path} builds every workbook in it once)\n",
    )


def test_watch_refuses_a_missing_workbook_in_one_line(runner: CliRunner, tmp_path: Path) -> None:
    missing = tmp_path / "desk.xlsx"
    result = runner.invoke(app, ["watch", str(missing)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {missing}: no such file; name the workbook to watch, as saved by Excel\n"
    )


@pytest.mark.parametrize(
    ("step", "command"),
    [
        pytest.param("check_workbook", "check", id="check"),
        pytest.param("build_memo", "build", id="build"),
    ],
)
def test_an_unforeseen_failure_in_a_batch_is_one_line_and_the_others_go_on(
    runner: CliRunner,
    make_workbook: MakeWorkbook,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    step: str,
    command: str,
) -> None:
    from briefing import pipeline

    unlucky, fine = make_workbook(name="unlucky.xlsx"), make_workbook(name="fine.xlsx")
    real = getattr(pipeline, step)

    def broken(path: Path, *args: object, **options: object) -> object:
        if path == unlucky:
            raise RuntimeError("disk vanished")
        return real(path, *args, **options)

    monkeypatch.setattr(pipeline, step, broken)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, [command, str(unlucky), str(fine)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {unlucky}: unexpected failure (RuntimeError: disk vanished); run 'briefing "
        f"--debug {command} {unlucky}' and report what it shows\n"
    )
    assert result.stdout == (
        f"{fine}: no problems found\n" if command == "check" else "Wrote fine.docx\n"
    )
