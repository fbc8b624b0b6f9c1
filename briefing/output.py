"""Write what a command makes: atomically (a temporary file, then os.replace), PDF, email draft."""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from briefing.errors import OutputError

EXAMPLE_NAMES = {".docx": "memo.docx", ".xlsx": "desk.xlsx", ".pdf": "memo.pdf"}
ATTACHMENT_TYPES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".pdf": "application/pdf",
}
# What each attachment is, as the email's list of attachments says it.
ATTACHMENT_ABOUT = {".docx": "the memo (Word)", ".pdf": "the memo (PDF)"}
# Characters Windows, macOS or Linux refuse in a file name, and control characters.
REFUSED_IN_NAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f-\x9f]')
MAX_NAME_TITLE = 72  # characters of the memo's title in an attachment's name
DANGLING_WORDS = frozenset(
    ("a", "an", "and", "at", "by", "for", "from", "in", "into", "of", "on", "or", "the", "to")
)


def ensure_file_target(path: Path, example: str = "memo.docx") -> None:
    """Raise OutputError when `path` cannot be written as a file; nothing is written."""
    if os.path.isdir(path):
        raise OutputError(f"{path}: is a folder; give a file name, such as {path / example}")
    folder = path.parent
    if not os.path.isdir(folder):
        raise OutputError(
            f"{path}: the folder {folder} does not exist; create it or choose another"
        )


def ensure_output(path: Path, suffix: str, *inputs: Path | None) -> None:
    """Raise OutputError unless `path` is a new or replaceable file of the kind `suffix` names.

    It must not be one of the command's own inputs: writing a memo over the workbook it was
    built from would destroy the analyst's work.
    """
    example = EXAMPLE_NAMES.get(suffix, f"name{suffix}")
    ensure_file_target(path, example)
    for given in inputs:
        if (
            given is not None
            and os.path.exists(path)
            and os.path.exists(given)
            and path.samefile(given)
        ):
            raise OutputError(
                f"{path}: is the file the command reads ({given}); choose another output name"
            )
    if path.suffix.casefold() != suffix:
        raise OutputError(f"{path}: give a file name ending in {suffix}, such as {example}")
    ensure_not_open(path)


def ensure_not_open(path: Path) -> None:
    """Raise OutputError while an office suite has `path` open: its lock file is beside it."""
    # Excel writes ~$ and the whole name; Word drops the first two characters of a long
    # name; LibreOffice writes .~lock.NAME#.
    for lock in (f"~${path.name}", f"~${path.name[2:]}", f".~lock.{path.name}#"):
        if os.path.exists(path.parent / lock):
            raise OutputError(
                f"{path}: the file is open in an office program ({lock} is beside it); "
                "close it and try again"
            )


def write_atomically(path: Path, data: bytes) -> Path:
    """Write `data` to `path` so that a failure leaves any earlier file exactly as it was."""
    ensure_file_target(path)
    try:
        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
        )
    except OSError as err:
        raise OutputError(f"{path}: cannot write in {path.parent} ({err.strerror})") from err
    replaced = False
    try:
        # mkstemp makes the file private (0600); give it the mode a plain write would.
        Path(temporary).chmod(_mode_for(path))
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        Path(temporary).replace(path)  # os.replace: atomic on one file system
        replaced = True
    except OSError as err:
        raise OutputError(
            f"{path}: cannot be written ({err.strerror}); nothing was changed"
        ) from err
    finally:
        if not replaced:  # a failure or Ctrl-C leaves no temporary file behind
            with contextlib.suppress(OSError):
                Path(temporary).unlink()
    return path


def _mode_for(path: Path) -> int:
    """The earlier file's permissions, or what the user's umask gives a new file."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def pdf_from_docx(docx: Path, *, timeout: int = 180) -> Path:
    """Convert the memo to PDF with LibreOffice, beside it, replacing any earlier PDF whole."""
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        raise OutputError(
            f"{docx}: --pdf needs LibreOffice (soffice) installed; install it or leave out --pdf"
        )
    target = docx.with_suffix(".pdf")
    ensure_not_open(target)
    with tempfile.TemporaryDirectory(dir=docx.parent, prefix=".briefing-pdf-") as folder:
        # A profile of its own, so that a LibreOffice the analyst has open does not take over.
        profile = Path(folder, "profile").resolve().as_uri()
        command = [
            office,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            folder,
            str(docx),
        ]
        try:
            subprocess.run(command, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as err:
            raise OutputError(f"{docx}: LibreOffice took over {timeout} s to make the PDF") from err
        made = Path(folder) / target.name
        if not os.path.isfile(made):
            raise OutputError(f"{docx}: LibreOffice could not convert the memo to PDF")
        write_atomically(target, made.read_bytes())
    return target


@dataclass(frozen=True)
class Attachment:
    """A file the email carries: where it is on disk, and the name it has in the email."""

    path: Path
    name: str

    @property
    def about(self) -> str:
        """What the file is: "the memo (Word)"."""
        return ATTACHMENT_ABOUT.get(self.path.suffix.casefold(), "a file")


def attachment_name(day: dt.date, title: str, suffix: str) -> str:
    """The name a memo has in the email: "2024-06-14 Putin ceasefire terms.docx".

    The title loses the characters file systems refuse and is cut at a word.
    """
    # A colon that ends a phrase reads as a dash: "terms: surrender" -> "terms - surrender".
    spaced = " ".join(title.split()).replace(": ", " - ")
    words = REFUSED_IN_NAMES.sub("", spaced).split()
    kept: list[str] = []
    for word in words:
        if len(" ".join([*kept, word])) > MAX_NAME_TITLE:
            break
        kept.append(word)
    if not kept and words:  # one long word: cut it
        kept = [words[0][:MAX_NAME_TITLE]]
    # A title cut short does not end on "and" or "of".
    while len(kept) < len(words) and len(kept) > 1 and kept[-1].casefold() in DANGLING_WORDS:
        kept.pop()
    # Windows refuses a name ending in a dot or a space.
    name = " ".join(kept).rstrip(".,;–— ") or "memo"
    return f"{day.isoformat()} {name}{suffix}"


def memo_attachments(files: Sequence[Path], day: dt.date, title: str) -> tuple[Attachment, ...]:
    """The memo's files as the email carries them, each named for the memo, not the workbook."""
    return tuple(
        Attachment(path, attachment_name(day, title, path.suffix.casefold())) for path in files
    )


def email_draft(
    memo: Path,
    *,
    to: str,
    subject: str,
    body: str,
    html: str | None = None,
    attachments: Sequence[Attachment],
    date: dt.datetime,
) -> Path:
    """Write an email draft (.eml) beside the memo with the memo attached; mail clients open it.

    The body is plain text, with `html` as its alternative for clients that show HTML. Each
    attachment is read from its path and named in the email by its name.
    """
    message = EmailMessage()
    # A line break typed in a cell cannot stand in a mail header.
    message["To"] = " ".join(to.split())
    message["Subject"] = " ".join(subject.split())
    message["Date"] = email.utils.format_datetime(date)
    message["X-Unsent"] = "1"  # Outlook opens the file as a draft to send
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for attachment in attachments:
        suffix = attachment.path.suffix.casefold()
        kind = ATTACHMENT_TYPES.get(suffix, "application/octet-stream")
        maintype, subtype = kind.split("/", 1)
        message.add_attachment(
            attachment.path.read_bytes(),
            maintype=maintype,
            subtype=subtype,
            filename=attachment.name,
            params={"name": attachment.name},  # older Outlooks read the name from here
        )
    # Folded at 78 characters, a long file name is split into RFC 2231 continuations
    # (filename*0*, filename*1*), which Outlook may not join: keep each header on one line,
    # up to the 998 characters a mail line may hold.
    whole_lines = message.policy.clone(max_line_length=998)
    return write_atomically(memo.with_suffix(".eml"), message.as_bytes(policy=whole_lines))


def backup_path(target: Path, stamp: dt.datetime) -> Path:
    """desk.xlsx -> desk.backup-20240614-093000.xlsx, beside it, never an existing file."""
    base = f"{target.stem}.backup-{stamp:%Y%m%d-%H%M%S}"
    candidate = target.with_name(base + target.suffix)
    counter = 1
    while os.path.exists(candidate):
        counter += 1
        candidate = target.with_name(f"{base}-{counter}{target.suffix}")
    return candidate


# Fonts of Microsoft Office and their free twins of the same metrics, which keep the layout.
METRIC_TWINS = {
    "Calibri": "Carlito",
    "Cambria": "Caladea",
    "Arial": "Liberation Sans",
    "Times New Roman": "Liberation Serif",
    "Courier New": "Liberation Mono",
}


def font_substitutions(fonts: Iterable[str]) -> list[str]:
    """Each font LibreOffice will not find, as "Calibri (set in DejaVu Sans)".

    Asks fontconfig, which LibreOffice uses on Linux; elsewhere (no fc-match) it says nothing.
    A font's metric twin (Carlito for Calibri) counts as found.
    """
    matcher = shutil.which("fc-match")
    if matcher is None:
        return []
    missing = []
    for font in sorted(fonts):
        try:
            found = subprocess.run(
                [matcher, "-f", "%{family}", font],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            ).stdout.split(",")[0]
        except (OSError, subprocess.TimeoutExpired):
            return []
        if found and found not in (font, METRIC_TWINS.get(font)):
            missing.append(f"{font} (set in {found})")
    return missing
