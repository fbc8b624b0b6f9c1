"""Writing what a command makes: guards before writing, atomic replacement, PDF, backups, email."""

from __future__ import annotations

import datetime as dt
import email
import os
import shutil
import sys
import time
from email import policy
from pathlib import Path
from types import SimpleNamespace

import pytest

from briefing.errors import OutputError
from briefing.output import (
    Attachment,
    StagedFiles,
    backup_path,
    email_draft,
    ensure_output,
    office_program,
    pdf_defect,
    pdf_from_docx,
    recipients,
    write_atomically,
)
from tests.conftest import InstallOffice, complete_pdf, write_fake_office


@pytest.mark.parametrize(
    ("name", "prepare", "message"),
    [
        pytest.param(
            "out",
            lambda folder: (folder / "out").mkdir(),
            "{path}: is a folder; give a file name, such as {path}/memo.docx",
            id="folder",
        ),
        pytest.param(
            "nowhere/memo.docx",
            lambda folder: None,
            "{path}: the folder {folder}/nowhere does not exist; create it or choose another",
            id="missing-folder",
        ),
        pytest.param(
            "notes.txt/memo.docx",
            lambda folder: (folder / "notes.txt").write_text("notes"),
            "{path}: {folder}/notes.txt is a file, not a folder; choose another folder",
            id="folder-is-a-file",
        ),
        pytest.param(
            "memo.pdf",
            lambda folder: None,
            "{path}: give a file name ending in .docx, such as memo.docx",
            id="wrong-suffix",
        ),
        pytest.param(
            "memo.docx",
            lambda folder: (folder / "~$memo.docx").write_text(""),
            "{path}: the file is open in an office program (~$memo.docx is beside it); close it "
            "and try again",
            id="excel-or-word-lock",
        ),
        pytest.param(
            "memo.docx",
            lambda folder: (folder / ".~lock.memo.docx#").write_text(""),
            "{path}: the file is open in an office program (.~lock.memo.docx# is beside it); "
            "close it and try again",
            id="libreoffice-lock",
        ),
    ],
)
def test_ensure_output_refuses_in_one_line(
    tmp_path: Path, name: str, prepare: object, message: str
) -> None:
    assert callable(prepare)
    prepare(tmp_path)
    path = tmp_path / name
    with pytest.raises(OutputError) as raised:
        ensure_output(path, ".docx")
    assert str(raised.value) == message.format(path=path, folder=tmp_path)


def test_ensure_output_refuses_the_commands_own_input(tmp_path: Path) -> None:
    workbook = tmp_path / "desk.xlsx"
    workbook.write_bytes(b"data")
    with pytest.raises(OutputError) as raised:
        ensure_output(tmp_path / "." / "desk.xlsx", ".xlsx", workbook)
    assert "is the file the command reads" in str(raised.value)
    ensure_output(tmp_path / "other.xlsx", ".xlsx", workbook)  # another name is fine


def test_write_atomically_keeps_the_earlier_file_when_the_write_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "memo.docx"
    target.write_bytes(b"earlier")

    def refuse(self: Path, other: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "replace", refuse)
    with pytest.raises(OutputError) as raised:
        write_atomically(target, b"new")
    assert str(raised.value) == (
        f"{target}: cannot be written (No space left on device); nothing was changed"
    )
    assert target.read_bytes() == b"earlier"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["memo.docx"]  # no temporary left


@pytest.mark.parametrize(
    ("read_only", "reason"),
    [
        pytest.param(os.ST_RDONLY, "Read-only file system", id="read-only-disk"),
        pytest.param(0, "Permission denied", id="no-permission"),
    ],
)
def test_ensure_output_refuses_a_folder_it_cannot_write_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read_only: int, reason: str
) -> None:
    # Root may write anywhere (CI runs as root), so the folder's answer is simulated.
    monkeypatch.setattr("briefing.output.os.access", lambda path, mode: False)
    monkeypatch.setattr(
        "briefing.output.os.statvfs", lambda path: SimpleNamespace(f_flag=read_only)
    )
    path = tmp_path / "memo.docx"
    with pytest.raises(OutputError) as raised:
        ensure_output(path, ".docx")
    assert (
        str(raised.value) == f"{path}: cannot write in {tmp_path} ({reason}); choose another folder"
    )


def test_write_atomically_interrupted_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "memo.docx"
    target.write_bytes(b"earlier")

    def interrupted(descriptor: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(target, b"new")
    assert target.read_bytes() == b"earlier"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["memo.docx"]


def test_write_atomically_keeps_the_earlier_files_permissions(tmp_path: Path) -> None:
    target = tmp_path / "memo.docx"
    target.write_bytes(b"earlier")
    target.chmod(0o640)
    write_atomically(target, b"new")
    assert (target.read_bytes(), target.stat().st_mode & 0o777) == (b"new", 0o640)


def test_backup_path_never_names_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "desk.xlsx"
    stamp = dt.datetime(2024, 6, 14, 9, 30, tzinfo=dt.UTC)
    first = backup_path(target, stamp)
    assert first.name == "desk.backup-20240614-093000.xlsx"
    first.write_bytes(b"")
    assert backup_path(target, stamp).name == "desk.backup-20240614-093000-2.xlsx"


def test_email_draft_has_a_plain_and_an_html_body_and_the_attachments(tmp_path: Path) -> None:
    memo = tmp_path / "memo.docx"
    memo.write_bytes(b"PK memo")
    pdf = tmp_path / "memo.pdf"
    pdf.write_bytes(b"%PDF-1.7")
    draft = email_draft(
        to="a@example.org,\nb@example.org",
        subject="[TLP:AMBER] Line\nbreak",
        body="Plain body\n",
        html="<p>Rich body</p>\n",
        attachments=[Attachment(memo, "2024-06-14 Ceasefire.docx"), Attachment(pdf, "memo.pdf")],
        date=dt.datetime(2024, 6, 14, 9, 30, tzinfo=dt.UTC),
    )
    message = email.message_from_bytes(draft, policy=policy.default)
    assert isinstance(message, email.message.EmailMessage)
    assert (message["To"], message["Subject"]) == (
        "a@example.org, b@example.org",
        "[TLP:AMBER] Line break",
    )
    plain = message.get_body(preferencelist=("plain",))
    rich = message.get_body(preferencelist=("html",))
    assert plain is not None
    assert rich is not None
    assert plain.get_content() == "Plain body\n"
    assert rich.get_content() == "<p>Rich body</p>\n"
    attached = [(a.get_filename(), a.get_content_type()) for a in message.iter_attachments()]
    assert attached == [
        (
            "2024-06-14 Ceasefire.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("memo.pdf", "application/pdf"),
    ]


@pytest.mark.parametrize(
    ("to", "header"),
    [
        pytest.param("desk@example.org", b"To: desk@example.org\n", id="ascii"),
        pytest.param(
            "a@b\u00fccher.de, b@\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444",
            b"To: a@xn--bcher-kva.de, b@xn--e1afmkfd.xn--p1ai\n",
            id="international-domains",
        ),
        pytest.param(
            "a@example.org,\nb@example.org", b"To: a@example.org, b@example.org\n", id="line-break"
        ),
    ],
)
def test_the_to_header_is_ascii_with_domains_in_idna(to: str, header: bytes) -> None:
    written = email_draft(
        to=to,
        subject="Brief",
        body="Body\n",
        attachments=[],
        date=dt.datetime(2024, 6, 14, 9, 30, tzinfo=dt.UTC),
    )
    assert written.startswith(header)
    assert b"=?" not in written


@pytest.mark.parametrize(
    ("to", "message"),
    [
        pytest.param(
            "nobody",
            "'nobody' cannot be written in an email's To header; write addresses such as "
            "desk@example.org, separated by commas",
            id="no-at-sign",
        ),
        pytest.param(
            "d\u00e9sk@example.org",
            "'d\u00e9sk@example.org' cannot be written in an email's To header; write addresses "
            "such as desk@example.org, separated by commas",
            id="mailbox-in-other-scripts",
        ),
        pytest.param(
            "desk@b\u00fccher..de",
            "'desk@b\u00fccher..de': its domain cannot be written in IDNA's ASCII form; check the "
            "address",
            id="empty-label",
        ),
    ],
)
def test_an_address_no_header_can_hold_is_refused(to: str, message: str) -> None:
    with pytest.raises(OutputError) as caught:
        recipients(to)
    assert str(caught.value) == message


NO_OFFICE = (
    "--pdf needs LibreOffice, found neither on the PATH nor where its installers put it; install "
    "it, set BRIEFING_SOFFICE to its soffice program, or leave out --pdf"
)


def test_pdf_needs_libreoffice(tmp_path: Path, fake_office: InstallOffice) -> None:
    fake_office(None)
    memo = tmp_path / "memo.docx"
    memo.write_bytes(b"PK")
    with pytest.raises(OutputError) as raised:
        pdf_from_docx(memo, tmp_path / "memo.pdf")
    assert str(raised.value) == f"{memo}: {NO_OFFICE}"
    assert not (tmp_path / "memo.pdf").exists()


def test_briefing_soffice_comes_before_the_path(
    tmp_path: Path, fake_office: InstallOffice, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_office("fails")  # the soffice on the PATH would fail
    chosen = write_fake_office(tmp_path / "my office", "converts")
    monkeypatch.setenv("BRIEFING_SOFFICE", str(chosen))
    assert office_program(tmp_path / "memo.docx") == str(chosen)
    memo = tmp_path / ".memo.k3x9.tmp.docx"
    memo.write_bytes(b"PK memo")
    assert pdf_from_docx(memo, tmp_path / "memo.pdf") == complete_pdf(2)


def test_briefing_soffice_may_name_a_program_on_the_path(
    tmp_path: Path, fake_office: InstallOffice, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_office(None)
    write_fake_office(tmp_path / "lowriter", "converts")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("BRIEFING_SOFFICE", "lowriter")
    assert office_program(tmp_path / "memo.docx") == str(tmp_path / "lowriter")


@pytest.mark.parametrize(
    "given",
    [
        pytest.param("{tmp}/nowhere/soffice", id="no-such-file"),
        pytest.param("{tmp}", id="a-folder"),
        pytest.param("{tmp}/soffice.txt", id="not-executable"),
        pytest.param("soffice-not-on-the-path", id="no-such-program"),
    ],
)
def test_a_bad_briefing_soffice_is_one_line_and_never_passed_over(
    tmp_path: Path, fake_office: InstallOffice, monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    fake_office("converts")  # a working soffice on the PATH is not tried in its stead
    (tmp_path / "soffice.txt").write_text("not a program")
    value = given.format(tmp=tmp_path)
    monkeypatch.setenv("BRIEFING_SOFFICE", value)
    memo = tmp_path / "memo.docx"
    with pytest.raises(OutputError) as raised:
        office_program(memo)
    assert str(raised.value) == (
        f"{memo}: BRIEFING_SOFFICE names {value}, which is not a program that can run; set it "
        "to LibreOffice's soffice program, or unset it"
    )


def test_an_empty_briefing_soffice_counts_as_unset(
    tmp_path: Path, fake_office: InstallOffice, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_office("converts")
    monkeypatch.setenv("BRIEFING_SOFFICE", "")
    assert Path(office_program(tmp_path / "memo.docx")).name == "soffice"


def test_libreoffice_off_the_path_is_found_where_it_installs(
    tmp_path: Path, fake_office: InstallOffice, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_office(None)
    home = tmp_path / "home"
    home.mkdir()
    flatpak = write_fake_office(home / "flatpak-libreoffice", "converts")
    (tmp_path / "not-executable").write_text("not a program")
    places = (
        str(tmp_path / "missing" / "soffice.exe"),
        str(tmp_path / "not-executable"),
        str(tmp_path),  # a folder
        "~/flatpak-libreoffice",
        str(write_fake_office(tmp_path / "later", "converts")),
    )
    monkeypatch.setattr("briefing.output.OFFICE_PLACES", places)
    monkeypatch.setenv("HOME", str(home))
    assert office_program(tmp_path / "memo.docx") == str(flatpak)


def test_a_place_in_a_home_folder_is_passed_over_without_a_home(
    tmp_path: Path, fake_office: InstallOffice, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_office(None)
    expand = Path.expanduser

    def no_home(path: Path) -> Path:
        if str(path).startswith("~"):
            raise RuntimeError("Could not determine home directory.")
        return expand(path)

    monkeypatch.setattr(Path, "expanduser", no_home)
    snap = write_fake_office(tmp_path / "libreoffice", "converts")
    monkeypatch.setattr("briefing.output.OFFICE_PLACES", ("~/soffice", str(snap)))
    assert office_program(tmp_path / "memo.docx") == str(snap)


def test_the_path_comes_before_the_places_libreoffice_installs(
    tmp_path: Path, fake_office: InstallOffice, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_office("converts")
    elsewhere = write_fake_office(tmp_path / "soffice.exe", "converts")
    monkeypatch.setattr("briefing.output.OFFICE_PLACES", (str(elsewhere),))
    on_the_path = shutil.which("soffice")
    assert on_the_path is not None
    assert office_program(tmp_path / "memo.docx") == on_the_path


EARLIER = {"memo.docx": b"earlier memo", "memo.pdf": b"earlier pdf"}  # memo.eml: none before


def stage_three(staged: StagedFiles, folder: Path) -> list[Path]:
    """Stage a new memo, PDF and email draft in `folder`; return the temporary files."""
    return [
        staged.write(folder / name, b"new " + name.encode())
        for name in ("memo.docx", "memo.pdf", "memo.eml")
    ]


def stage_and_commit(folder: Path) -> None:
    with StagedFiles() as staged:
        stage_three(staged, folder)
        staged.commit()


def write_earlier(folder: Path) -> None:
    for name, data in EARLIER.items():
        (folder / name).write_bytes(data)


def contents(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_staged_files_replace_every_target_on_commit(tmp_path: Path) -> None:
    write_earlier(tmp_path)
    with StagedFiles() as staged:
        temporaries = stage_three(staged, tmp_path)
        assert [path.name.endswith(f".tmp{path.suffix}") for path in temporaries] == [True] * 3
        assert contents(tmp_path).keys() == {*EARLIER, *(path.name for path in temporaries)}
        staged.commit()
    assert contents(tmp_path) == {
        "memo.docx": b"new memo.docx",
        "memo.eml": b"new memo.eml",
        "memo.pdf": b"new memo.pdf",
    }


def test_staged_files_left_uncommitted_change_nothing(tmp_path: Path) -> None:
    write_earlier(tmp_path)

    def fail_after_staging() -> None:
        with StagedFiles() as staged:
            stage_three(staged, tmp_path)
            raise OutputError("a later step failed")

    with pytest.raises(OutputError):
        fail_after_staging()
    assert contents(tmp_path) == EARLIER


@pytest.mark.parametrize(
    "hard_links", [pytest.param(True, id="hard-links"), pytest.param(False, id="copies")]
)
def test_staged_files_put_earlier_files_back_when_a_replacement_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hard_links: bool
) -> None:
    write_earlier(tmp_path)
    replace = Path.replace

    def refuse_the_email(self: Path, target: Path) -> Path:
        if Path(target).name == "memo.eml":
            raise OSError(13, "Permission denied")
        return replace(self, target)

    def no_links(source: Path, name: Path) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(Path, "replace", refuse_the_email)
    if not hard_links:
        monkeypatch.setattr("briefing.output.os.link", no_links)
    with pytest.raises(OutputError) as raised:
        stage_and_commit(tmp_path)
    assert str(raised.value) == (
        f"{tmp_path / 'memo.eml'}: cannot be written (Permission denied); nothing was changed"
    )
    assert contents(tmp_path) == EARLIER


def test_staged_files_put_earlier_files_back_on_ctrl_c_between_replacements(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_earlier(tmp_path)
    replace = Path.replace

    def interrupt_at_the_email(self: Path, target: Path) -> Path:
        if Path(target).name == "memo.eml":
            raise KeyboardInterrupt
        return replace(self, target)

    monkeypatch.setattr(Path, "replace", interrupt_at_the_email)
    with pytest.raises(KeyboardInterrupt):
        stage_and_commit(tmp_path)
    assert contents(tmp_path) == EARLIER


def test_staged_files_name_what_they_could_not_put_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_earlier(tmp_path)
    replace = Path.replace

    def refuse_the_email_and_putting_back(self: Path, target: Path) -> Path:
        if Path(target).name == "memo.eml" or ".earlier" in self.name:
            raise OSError(13, "Permission denied")
        return replace(self, target)

    monkeypatch.setattr(Path, "replace", refuse_the_email_and_putting_back)
    with pytest.raises(OutputError) as raised:
        stage_and_commit(tmp_path)
    assert str(raised.value) == (
        f"{tmp_path / 'memo.eml'}: cannot be written (Permission denied); "
        f"{tmp_path / 'memo.docx'}, {tmp_path / 'memo.pdf'} already replaced; build again"
    )
    assert contents(tmp_path) == {"memo.docx": b"new memo.docx", "memo.pdf": b"new memo.pdf"}


@pytest.mark.parametrize(
    ("data", "defect"),
    [
        pytest.param(complete_pdf(1), None, id="one-page"),
        pytest.param(complete_pdf(3) + b"\r\n", None, id="three-pages-crlf"),
        pytest.param(
            complete_pdf(2).replace(b" 0 obj", b"  0\tobj"), None, id="other-spacing-in-objects"
        ),
        pytest.param(
            complete_pdf(0).replace(b" 0 obj", b"  0\tobj"),
            "it has no pages",
            id="other-spacing-no-pages",
        ),
        pytest.param(
            complete_pdf(40)[:2000], "it does not end with %%EOF: it was cut short", id="cut-short"
        ),
        pytest.param(
            complete_pdf(1)[:-4],
            "it does not end with %%EOF: it was cut short",
            id="last-bytes-lost",
        ),
        pytest.param(complete_pdf(0), "it has no pages", id="no-pages"),
        pytest.param(
            complete_pdf(1).replace(b"/Root 1 0 R", b"/Info 1 0 R"),
            "its trailer names no catalog",
            id="no-catalog",
        ),
        pytest.param(b"", "it does not start with %PDF-", id="empty"),
        pytest.param(b"<html>Error</html>", "it does not start with %PDF-", id="not-a-pdf"),
    ],
)
def test_pdf_defect_finds_what_is_missing(data: bytes, defect: str | None) -> None:
    assert pdf_defect(data) == defect


@pytest.mark.parametrize(
    ("run", "failure"),
    [
        pytest.param(
            "fails",
            "LibreOffice could not convert the memo to PDF (it exited with code 1); nothing was "
            "changed; check the free space in {folder}, then try again, or leave out --pdf",
            id="exits-1",
        ),
        pytest.param(
            "writes-nothing",
            "LibreOffice could not convert the memo to PDF (it wrote no PDF); nothing was "
            "changed; check the free space in {folder}, then try again, or leave out --pdf",
            id="writes-nothing",
        ),
        pytest.param(
            "cut-short",
            "LibreOffice made an incomplete PDF (it does not end with %%EOF: it was cut short); "
            "nothing was changed; check the free space in {folder}, then try again",
            id="cut-short",
        ),
        pytest.param(
            "no-pages",
            "LibreOffice made an incomplete PDF (it has no pages); nothing was changed; check "
            "the free space in {folder}, then try again",
            id="no-pages",
        ),
    ],
)
def test_pdf_counts_only_when_libreoffice_made_a_complete_one(
    tmp_path: Path, fake_office: InstallOffice, run: str, failure: str
) -> None:
    fake_office(run)
    memo = tmp_path / ".memo.k3x9.tmp.docx"
    memo.write_bytes(b"PK memo")
    with pytest.raises(OutputError) as raised:
        pdf_from_docx(memo, tmp_path / "memo.pdf")
    assert str(raised.value) == f"{tmp_path / 'memo.pdf'}: {failure.format(folder=tmp_path)}"
    assert [path.name for path in tmp_path.iterdir()] == [memo.name]  # no folder left


def test_pdf_from_docx_returns_the_pdf_and_leaves_nothing_beside_it(
    tmp_path: Path, fake_office: InstallOffice
) -> None:
    fake_office("converts")
    memo = tmp_path / ".memo.k3x9.tmp.docx"
    memo.write_bytes(b"PK memo")
    assert pdf_from_docx(memo, tmp_path / "memo.pdf") == complete_pdf(2)
    assert [path.name for path in tmp_path.iterdir()] == [memo.name]


# A stand-in for LibreOffice's launcher, which starts the program that converts (soffice.bin)
# and waits for it: it writes that program's process ID, and both outlast any time limit.
LAUNCHER = """#!{python}
import pathlib, subprocess, sys

converter = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
pathlib.Path({pid_file!r}).write_text(str(converter.pid))
converter.wait()
"""


def still_runs(pid: int) -> bool:
    """Whether a process runs (a zombie waiting to be reaped does not), polled for a while."""
    status = Path(f"/proc/{pid}/status")
    for _ in range(100):
        try:
            if "\nState:\tZ" not in status.read_text():
                time.sleep(0.05)
                continue
        except FileNotFoundError:
            pass
        return False
    return True


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_libreoffice_past_its_time_is_ended_with_the_converter_it_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, pid_file = tmp_path / "bin", tmp_path / "converter.pid"
    folder.mkdir()
    launcher = folder / "soffice"
    launcher.write_text(LAUNCHER.format(python=sys.executable, pid_file=str(pid_file)))
    launcher.chmod(0o755)
    monkeypatch.setenv("PATH", str(folder))
    memo = tmp_path / ".memo.k3x9.tmp.docx"
    memo.write_bytes(b"PK memo")
    with pytest.raises(OutputError) as raised:
        pdf_from_docx(memo, tmp_path / "memo.pdf", timeout=3)
    assert str(raised.value) == (
        f"{tmp_path / 'memo.pdf'}: LibreOffice took over 3 s to make the PDF; nothing was "
        "changed; build a shorter edition (--days), or leave out --pdf and save the memo as "
        "PDF from Word or LibreOffice"
    )
    assert not still_runs(int(pid_file.read_text()))
