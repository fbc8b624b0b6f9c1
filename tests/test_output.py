"""Writing what a command makes: guards before writing, atomic replacement, backups, email."""

from __future__ import annotations

import datetime as dt
import email
import os
from email import policy
from pathlib import Path

import pytest

from briefing.errors import OutputError
from briefing.output import (
    Attachment,
    backup_path,
    email_draft,
    ensure_output,
    pdf_from_docx,
    write_atomically,
)


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
        memo,
        to="a@example.org,\nb@example.org",
        subject="[TLP:AMBER] Line\nbreak",
        body="Plain body\n",
        html="<p>Rich body</p>\n",
        attachments=[Attachment(memo, "2024-06-14 Ceasefire.docx"), Attachment(pdf, "memo.pdf")],
        date=dt.datetime(2024, 6, 14, 9, 30, tzinfo=dt.UTC),
    )
    message = email.message_from_bytes(draft.read_bytes(), policy=policy.default)
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


def test_pdf_needs_libreoffice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    memo = tmp_path / "memo.docx"
    memo.write_bytes(b"PK")
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(OutputError) as raised:
        pdf_from_docx(memo)
    assert str(raised.value) == (
        f"{memo}: --pdf needs LibreOffice (soffice) installed; install it or leave out --pdf"
    )
    assert not (tmp_path / "memo.pdf").exists()
