"""One function per command: the stages called in order, and what each command returns."""

from __future__ import annotations

import datetime as dt
import email
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from email import policy
from pathlib import Path
from typing import Any

import pytest

from briefing.context import build_context
from briefing.errors import InvalidWorkbook, OutputError, WorkbookUnreadable
from briefing.pipeline import (
    Outcome,
    build_many,
    build_memo,
    check_workbook,
    default_output,
    example_dossier,
    example_records,
    extract_candidates,
    is_owner_file,
    located_sheets,
    parallel_workers,
    watch_memo,
    workbooks_in,
)
from briefing.schema import SourceRow
from briefing.workbook import read_workbook
from tests.conftest import (
    SEED_ARTICLE,
    SEED_WORKBOOK,
    WAIT,
    InstallOffice,
    cell,
    complete_pdf,
    field_cell,
    in_thread,
    memo_text,
    next_save,
    save_as_excel_does,
    saving,
    set_cells,
    template_with,
)

NOW = dt.datetime(2024, 6, 14, 9, 30, tzinfo=dt.UTC)


def test_example_records_leave_source_files_out_unless_asked() -> None:
    records, briefing = example_records()
    with_files, _ = example_records(with_files=True)
    assert {row["File"] for row in records["Sources"]} == {""}
    assert all(row["File"] for row in with_files["Sources"])
    assert briefing["Handling"] == "TLP:CLEAR"


def test_example_dossier_is_valid_and_complete() -> None:
    dossier = example_dossier()
    assert not [p for p in dossier.problems if p.is_error]
    assert [s.id for s in dossier.rows(SourceRow)] == ["S1"]
    assert build_context(dossier).records["figures"]


def test_default_output_is_the_inputs_name_in_the_current_folder() -> None:
    assert default_output(Path("/data/desk.xlsx")) == Path("desk.docx")
    assert default_output(Path("notes/article.txt"), ".xlsx") == Path("article.xlsx")


def test_check_reports_errors_and_warnings_without_raising(example_workbook: Path) -> None:
    set_cells(
        example_workbook,
        {cell("Figures", "Value", 2): "many", cell("Sources", "Grading note", 2): "a note"},
    )
    report = check_workbook(example_workbook)
    assert (report.errors, report.path) == (1, example_workbook)
    assert [str(p) for p in report.problems if p.is_error] == [
        f"{cell('Figures', 'Value', 2)}: expected a number, got 'many'"
    ]


def test_build_stops_at_the_first_error_and_writes_nothing(
    example_workbook: Path, tmp_path: Path
) -> None:
    set_cells(example_workbook, {cell("Figures", "Value", 2): "many"})
    with pytest.raises(InvalidWorkbook):
        build_memo(example_workbook, tmp_path / "memo.docx", email=True, now=NOW)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["desk.xlsx"]


@pytest.mark.parametrize(
    "wrong_too",
    [
        pytest.param({}, id="alone"),
        pytest.param({"memo_date": dt.date(2030, 1, 1)}, id="with-an-empty-edition"),
        pytest.param({"template": "broken.docx"}, id="with-a-template-mistake"),
        pytest.param({"template": "slow.docx"}, id="with-a-template-minutes-long"),
    ],
)
def test_a_quote_not_in_its_source_stops_the_build_though_the_memo_renders_meanwhile(
    seed_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wrong_too: dict[str, object]
) -> None:
    """The memo renders while the quotes are checked; a quote not in its source stops the
    build all the same, before whatever else is wrong, and nothing is written."""
    workbook = seed_copy
    quote = cell("Figures", "Quote", 2)
    set_cells(workbook, {quote: "Russia said it had shot down 87 drones over the sea."})
    options = dict(wrong_too)
    slow = options.get("template") == "slow.docx"
    if "template" in options:
        wrong = "{{ no_such_field }}{{"
        if slow:  # a template that runs for its whole time limit
            wrong = "{% for i in range(5000) %}{% for j in range(5000) %}{% endfor %}{% endfor %}{{"
        change = {"word/document.xml": lambda xml: xml.replace("{{", wrong, 1)}
        options["template"] = template_with(tmp_path / str(options["template"]), change)
    children: list[subprocess.Popen[bytes]] = []
    popen = subprocess.Popen

    def started(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        children.append(popen(*args, **kwargs))
        return children[-1]

    monkeypatch.setattr(subprocess, "Popen", started)
    out = tmp_path / "memo.docx"
    out.write_bytes(b"the earlier memo")
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(InvalidWorkbook) as raised:
        build_memo(workbook, out, now=NOW, **options)  # type: ignore[arg-type]
    errors = [str(problem) for problem in raised.value.problems if problem.is_error]
    assert [error.split(";")[0] for error in errors] == [f"{quote}: quote not found in source S1"]
    assert out.read_bytes() == b"the earlier memo"
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    if slow:  # the render no one wants is ended, not waited for
        (render,) = children
        assert render.returncode == -signal.SIGKILL


def test_build_looks_for_libreoffice_before_reading_the_workbook(
    example_workbook: Path, tmp_path: Path, fake_office: InstallOffice
) -> None:
    fake_office(None)
    set_cells(example_workbook, {cell("Figures", "Value", 2): "many"})
    out = tmp_path / "memo.docx"
    with pytest.raises(OutputError) as raised:
        build_memo(example_workbook, out, pdf=True, now=NOW)
    assert str(raised.value) == (
        f"{out}: --pdf needs LibreOffice, found neither on the PATH nor where its installers put "
        "it; install it, set BRIEFING_SOFFICE to its soffice program, or leave out --pdf"
    )


def test_build_attaches_the_memo_and_pdf_it_puts_in_place(
    example_workbook: Path, tmp_path: Path, fake_office: InstallOffice
) -> None:
    fake_office("converts")
    result = build_memo(example_workbook, tmp_path / "memo.docx", pdf=True, email=True, now=NOW)
    assert (result.path, result.pdf, result.email) == (
        tmp_path / "memo.docx",
        tmp_path / "memo.pdf",
        tmp_path / "memo.eml",
    )
    pdf, draft = tmp_path / "memo.pdf", tmp_path / "memo.eml"
    assert pdf.read_bytes() == complete_pdf(2)
    message = email.message_from_bytes(draft.read_bytes(), policy=policy.default)
    assert isinstance(message, email.message.EmailMessage)
    attached = [(a.get_filename(), a.get_content()) for a in message.iter_attachments()]
    name = "2024-06-14 Putin's ceasefire terms - surrender four regions and drop NATO bid"
    assert attached == [
        (f"{name}.docx", result.path.read_bytes()),
        (f"{name}.pdf", pdf.read_bytes()),
    ]
    plain = message.get_body(preferencelist=("plain",))
    assert plain is not None
    assert f"{name}.pdf: the memo (PDF)\n" in plain.get_content()


def test_build_dates_the_memo_and_drafts_the_email_from_the_same_context(
    example_workbook: Path, tmp_path: Path
) -> None:
    result = build_memo(
        example_workbook,
        tmp_path / "memo.docx",
        memo_date=dt.date(2024, 6, 15),
        days=2,
        email=True,
        now=NOW.replace(tzinfo=None),
    )
    assert "DATE: | 15 June 2024" in memo_text(result.path).splitlines()
    assert result.email is not None
    message = email.message_from_bytes(result.email.read_bytes(), policy=policy.default)
    assert isinstance(message, email.message.EmailMessage)
    plain = message.get_body(preferencelist=("plain",))
    rich = message.get_body(preferencelist=("html",))
    assert plain is not None
    assert rich is not None
    assert "Information as of 15 June 2024; this edition covers 14–15 June 2024." in (
        plain.get_content()
    )
    assert plain.get_content().endswith("\n\nRussia–Ukraine desk\n")
    assert ">TLP:CLEAR</span> Disclosure is not limited.</p>" in rich.get_content()
    assert result.warnings == ()


def test_extract_into_an_existing_workbook_keeps_a_backup(
    example_workbook: Path, tmp_path: Path
) -> None:
    article = tmp_path / "article.txt"
    article.write_text(SEED_ARTICLE.read_text(encoding="utf-8"), encoding="utf-8")
    before = example_workbook.read_bytes()
    result = extract_candidates(article, example_workbook, now=NOW)
    assert result.backup == tmp_path / "desk.backup-20240614-093000.xlsx"
    assert result.backup.read_bytes() == before
    assert result.source_id == "S2"
    sheets = located_sheets(read_workbook(example_workbook))
    assert set(sheets) >= {"Sources", "Figures", "Reactions", "Demands"}
    assert len(sheets["Sources"].rows) == 2


# ---------------------------------------------------------------------------- many workbooks


@pytest.mark.parametrize(
    ("name", "owner"),
    [
        pytest.param("desk.xlsx", False, id="workbook"),
        pytest.param("~$desk.xlsx", True, id="excel-owner-file"),
        pytest.param(".~lock.desk.xlsx#", True, id="libreoffice-lock-file"),
        pytest.param("~desk.xlsx", False, id="a-tilde-is-a-name"),
    ],
)
def test_owner_files_are_told_from_workbooks(name: str, owner: bool) -> None:
    assert is_owner_file(Path("desks") / name) is owner


def test_a_folder_gives_its_workbooks_by_name_and_no_owner_file(tmp_path: Path) -> None:
    for name in ("b.xlsx", "A.XLSX", "~$b.xlsx", ".~lock.b.xlsx#", "notes.txt", "old.xls"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "inner.xlsx").mkdir()
    found, failures = workbooks_in([tmp_path, tmp_path / "notes.txt"])
    assert found == [tmp_path / "A.XLSX", tmp_path / "b.xlsx", tmp_path / "notes.txt"]
    assert failures == []


def test_builds_in_worker_processes_give_what_serial_builds_give(
    make_workbook: Callable[..., Path], tmp_path: Path
) -> None:
    names = ["a.xlsx", "b.xlsx", "c.xlsx", "d.xlsx"]
    workbooks = [make_workbook(name=name) for name in names]
    workbooks[2] = make_workbook({cell("Figures", "Value", 7): "eighty-seven"}, name="c.xlsx")
    results = {}
    for workers in (1, 2):
        out = tmp_path / f"out{workers}"
        out.mkdir()
        outcomes = list(build_many(workbooks, out, workers=workers))
        results[workers] = (
            [(o.workbook, o.problems, o.error) for o in outcomes],
            {p.name: memo_text(p) for p in sorted(out.iterdir())},
        )
    assert results[1] == results[2]
    assert sorted(results[2][1]) == ["a.docx", "b.docx", "d.docx"]
    assert [error for _, _, error in results[2][0]] == [
        None,
        None,
        f"{workbooks[2]}: the workbook has 1 error; nothing was written",
        None,
    ]


def test_many_workbooks_use_every_core_and_few_use_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert [parallel_workers(jobs) for jobs in (0, 1, 3, 4, 50)] == [1, 1, 1, 3, 3]


# ---------------------------------------------------------------------------- live preview


def test_watch_rebuilds_on_each_save_and_keeps_the_last_good_memo(
    make_workbook: Callable[..., Path], tmp_path: Path
) -> None:
    workbook = make_workbook()
    changed = make_workbook({field_cell("BLUF"): "Talks resume on Monday."}, name="changed.xlsx")
    broken = make_workbook({cell("Figures", "Value", 7): "eighty-seven"}, name="broken.xlsx")
    out = tmp_path / "memo.docx"
    stop = threading.Event()
    items, thread = in_thread(watch_memo(workbook, out, stop=stop))
    first = items.get(timeout=WAIT)
    assert isinstance(first, Outcome)
    assert (first.error, first.result and first.result.path) == (None, out)
    assert "Talks resume on Monday." not in memo_text(out)

    def save(source: Path) -> Iterator[None]:
        return saving(lambda: save_as_excel_does(workbook, source.read_bytes()), times=3)

    second = next_save(items, save(changed), seconds=WAIT / 2)
    assert isinstance(second, Outcome)
    assert second.error is None
    assert "Talks resume on Monday." in memo_text(out)
    good = out.read_bytes()
    third = next_save(items, save(broken), seconds=WAIT / 2)
    assert isinstance(third, Outcome)
    assert third.error == f"{workbook}: the workbook has 1 error; nothing was written"
    assert [str(problem) for problem in third.problems] == [
        f"{cell('Figures', 'Value', 7)}: expected a number, got 'eighty-seven'"
    ]
    assert out.read_bytes() == good
    stop.set()
    thread.join(WAIT)
    assert not thread.is_alive()


def test_watch_follows_the_source_files_the_workbook_cites(tmp_path: Path) -> None:
    folder = tmp_path / "workbooks"
    folder.mkdir()
    (tmp_path / "seeds").mkdir()
    article = tmp_path / "seeds" / SEED_ARTICLE.name
    article.write_bytes(SEED_ARTICLE.read_bytes())
    workbook = folder / "desk.xlsx"
    workbook.write_bytes(SEED_WORKBOOK.read_bytes())
    stop = threading.Event()
    items, thread = in_thread(watch_memo(workbook, tmp_path / "memo.docx", stop=stop))
    first = items.get(timeout=WAIT)
    assert isinstance(first, Outcome)
    assert first.result is not None
    assert first.result.cited == (article,)

    def shorten() -> None:
        article.write_text("Nothing was said.\n", encoding="utf-8")

    # The quotes are no longer in the source: the save of the source is a failed build.
    rebuilt = next_save(items, saving(shorten, times=3), seconds=WAIT / 2)
    assert isinstance(rebuilt, Outcome)
    assert rebuilt.error == f"{workbook}: the workbook has 42 errors; nothing was written"
    stop.set()
    thread.join(WAIT)
    assert not thread.is_alive()


def test_watch_needs_the_workbook_to_exist(tmp_path: Path) -> None:
    missing = tmp_path / "desk.xlsx"
    with pytest.raises(WorkbookUnreadable) as refused:
        watch_memo(missing)
    assert str(refused.value) == (
        f"{missing}: no such file; name the workbook to watch, as saved by Excel"
    )
