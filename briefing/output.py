"""Write what a command makes: atomically (a temporary file, then os.replace), PDF, email draft."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from briefing.errors import OutputError

if TYPE_CHECKING:
    from email.headerregistry import Address

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
OFFICE_VARIABLE = "BRIEFING_SOFFICE"  # the environment variable naming LibreOffice's program
# Where LibreOffice's installers put its program when the PATH does not lead there: Windows
# (64 and 32 bits), macOS, and the launchers Flatpak (for all users, then for one) and Snap make,
# which take soffice's arguments.
OFFICE_PLACES: tuple[str, ...] = (
    r"C:\Program Files\LibreOffice\program\soffice.exe",
    r"C:\Program Files (x86)\LibreOffice\program\soffice.exe",
    "/Applications/LibreOffice.app/Contents/MacOS/soffice",
    "/var/lib/flatpak/exports/bin/org.libreoffice.LibreOffice",
    "~/.local/share/flatpak/exports/bin/org.libreoffice.LibreOffice",
    "/snap/bin/libreoffice",
)
# LibreOffice's settings for converting a memo without reaching any host: linked images and
# other outside resources of a document not in a trusted location are never loaded (and no
# location is trusted), links to other files are never updated, and no active content runs
# (DisableActiveContent belongs to newer LibreOffice versions; older ones ignore it).
OFFLINE_SETTINGS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting">
 <prop oor:name="BlockUntrustedRefererLinks" oor:op="fuse"><value>true</value></prop>
 <prop oor:name="SecureURL" oor:op="fuse"><value/></prop>
 <prop oor:name="DisableActiveContent" oor:op="fuse"><value>true</value></prop>
</item>
<item oor:path="/org.openoffice.Office.Writer/Content/Update">
 <prop oor:name="Link" oor:op="fuse"><value>0</value></prop>
</item>
<item oor:path="/org.openoffice.Office.Calc/Content/Update">
 <prop oor:name="Link" oor:op="fuse"><value>1</value></prop>
</item>
</oor:items>
"""


def ensure_file_target(path: Path, example: str = "memo.docx") -> None:
    """Raise OutputError when `path` cannot be written as a file; nothing is written."""
    if os.path.isdir(path):
        raise OutputError(f"{path}: is a folder; give a file name, such as {path / example}")
    folder = path.parent
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise OutputError(f"{path}: {folder} is a file, not a folder; choose another folder")
    if not os.path.isdir(folder):
        raise OutputError(
            f"{path}: the folder {folder} does not exist; create it or choose another"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        # access() answers for root too when the disk is mounted read-only.
        reason = errno.EROFS if _read_only_disk(folder) else errno.EACCES
        raise OutputError(_unwritable_folder(path, os.strerror(reason)))


def _read_only_disk(folder: Path) -> bool:
    """Whether the file system holding `folder` is mounted read-only (POSIX; elsewhere False)."""
    if not hasattr(os, "statvfs"):
        return False
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _unwritable_folder(path: Path, reason: str | None) -> str:
    return f"{path}: cannot write in {path.parent} ({reason}); choose another folder"


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
    with StagedFiles() as staged:
        staged.write(path, data)
        staged.commit()
    return path


class StagedFiles:
    """Files made under temporary names beside their targets, then put in place together.

    Until `commit`, every target is as it was; leaving the block without committing removes
    the temporary files. A temporary file keeps its target's suffix (`.memo.k3x9.tmp.docx`),
    so that LibreOffice and the email take it for what it is.
    """

    def __init__(self) -> None:
        self._staged: dict[Path, Path] = {}  # target -> its temporary file

    def __enter__(self) -> StagedFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        for temporary in self._staged.values():
            with contextlib.suppress(OSError):
                temporary.unlink()
        self._staged.clear()

    def write(self, target: Path, data: bytes) -> Path:
        """Write `data` to a new temporary file beside `target`; return the temporary file."""
        try:
            handle, name = tempfile.mkstemp(
                prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent
            )
        except OSError as err:
            raise OutputError(_unwritable_folder(target, err.strerror)) from err
        temporary = Path(name)
        self._staged[target] = temporary
        try:
            # mkstemp makes the file private (0600); give it the mode a plain write would.
            temporary.chmod(_mode_for(target))
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
        except OSError as err:
            raise OutputError(
                f"{target}: cannot be written ({err.strerror}); nothing was changed"
            ) from err
        return temporary

    def commit(self) -> None:
        """Put every temporary file in place (os.replace: atomic on one file system).

        Should one replacement fail, the targets already replaced get their earlier files back:
        each earlier file is first kept under a second name (a hard link, else a copy).
        """
        replaced: list[tuple[Path, Path | None]] = []  # a target, and its kept earlier file
        kept: list[Path] = []
        try:
            for target, temporary in self._staged.items():
                earlier = _keep_earlier(target)
                if earlier is not None:
                    kept.append(earlier)
                temporary.replace(target)
                replaced.append((target, earlier))
        except OSError as err:
            raise OutputError(
                f"{target}: cannot be written ({err.strerror}); {_put_back(replaced)}"
            ) from err
        except BaseException:  # Ctrl-C between two replacements
            _put_back(replaced)
            raise
        else:
            self._staged.clear()
        finally:
            for earlier in kept:
                with contextlib.suppress(OSError):
                    earlier.unlink()


def _keep_earlier(target: Path) -> Path | None:
    """A second name for the file at `target`, beside it; None when there is no such file."""
    if not os.path.isfile(target):
        return None
    while True:
        name = target.with_name(f".{target.stem}.{secrets.token_hex(4)}.earlier{target.suffix}")
        try:
            os.link(target, name)
        except FileExistsError:
            continue
        except OSError:  # a file system without hard links
            if os.path.exists(name):
                continue
            try:
                shutil.copy2(target, name)
            except OSError:
                with contextlib.suppress(OSError):
                    name.unlink()
                raise
        return name


def _put_back(replaced: Sequence[tuple[Path, Path | None]]) -> str:
    """Give each replaced target its earlier file back (or none, if it had none); say so."""
    lost = []
    for target, earlier in reversed(replaced):
        try:
            if earlier is None:
                target.unlink()
            else:
                earlier.replace(target)
        except OSError:
            lost.append(str(target))
    if lost:
        return f"{', '.join(reversed(lost))} already replaced; build again"
    return "nothing was changed"


def _mode_for(path: Path) -> int:
    """The earlier file's permissions, or what the user's umask gives a new file."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def office_program(memo: Path) -> str:
    """LibreOffice's program; raises OutputError, naming `memo`, without it.

    The program BRIEFING_SOFFICE names (a path, or a name on the PATH) comes first, then soffice
    on the PATH, then the first of OFFICE_PLACES there is.
    """
    chosen = os.environ.get(OFFICE_VARIABLE, "")
    if chosen:
        office = shutil.which(chosen)
        if office is None:
            raise OutputError(
                f"{memo}: {OFFICE_VARIABLE} names {chosen}, which is not a program that can run; "
                "set it to LibreOffice's soffice program, or unset it"
            )
        return office
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is not None:
        return office
    for place in OFFICE_PLACES:
        try:
            candidate = Path(place).expanduser()
        except RuntimeError:  # no home folder to expand ~ to
            continue
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return str(candidate)
    raise OutputError(
        f"{memo}: --pdf needs LibreOffice, found neither on the PATH nor where its installers "
        f"put it; install it, set {OFFICE_VARIABLE} to its soffice program, or leave out --pdf"
    )


# LibreOffice's time to make a PDF: a day's edition of a 100,000-row workbook (333 figure
# rows, 22 pages) takes 6 s, three days' (1,000 rows, 52 pages) 15 s on a loaded 2-core
# machine; a template printing 8 million characters kept it busy past 180 s. Past this, the
# conversion and the converter it started are ended as one.
PDF_SECONDS = 20


def pdf_from_docx(docx: Path, target: Path, *, timeout: int = PDF_SECONDS) -> bytes:
    """The memo at `docx` converted to PDF by LibreOffice, for `target`; only a complete PDF.

    LibreOffice works on a copy in a private folder beside `target`, named as the PDF will
    be; the caller puts the PDF in place.
    """
    office = office_program(target.with_suffix(".docx"))
    # A full disk shows as any of these failures: LibreOffice cannot make its profile (exit
    # code 77), writes no PDF, or writes part of one and exits 0.
    space = f"check the free space in {target.parent.absolute()}, then try again"
    with _pdf_folder(target) as folder:
        memo = Path(folder, target.with_suffix(".docx").name)
        shutil.copyfile(docx, memo)
        # A profile of its own, so that a LibreOffice the analyst has open does not take over.
        profile = offline_profile(Path(folder, "profile"))
        command = [
            office,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            folder,
            str(memo),
        ]
        try:
            returncode = _run_office(command, timeout)
        except subprocess.TimeoutExpired as err:
            raise OutputError(
                f"{target}: LibreOffice took over {timeout} s to make the PDF; nothing was "
                "changed; build a shorter edition (--days), or leave out --pdf and save the "
                "memo as PDF from Word or LibreOffice"
            ) from err
        made = Path(folder) / target.name
        if returncode != 0 or not os.path.isfile(made):
            failure = f"it exited with code {returncode}" if returncode else "it wrote no PDF"
            raise OutputError(
                f"{target}: LibreOffice could not convert the memo to PDF ({failure}); nothing "
                f"was changed; {space}, or leave out --pdf"
            )
        data = made.read_bytes()
    defect = pdf_defect(data)
    if defect is not None:
        raise OutputError(
            f"{target}: LibreOffice made an incomplete PDF ({defect}); nothing was changed; {space}"
        )
    return data


def _run_office(command: list[str], timeout: int) -> int:
    """Run LibreOffice and return its exit code; raises subprocess.TimeoutExpired past `timeout`.

    `soffice` is a launcher that starts the converter (soffice.bin) and waits for it: killing
    the launcher alone, as subprocess.run does, would leave the converter running on in a
    folder about to be removed. Both run in a process group of their own, ended as one when
    the time is up or the command is interrupted.
    """
    grouped = hasattr(os, "killpg")
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=grouped
    ) as process:
        try:
            process.communicate(timeout=timeout)
        except BaseException:
            if grouped:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
            raise
    return process.returncode


@contextlib.contextmanager
def _pdf_folder(target: Path) -> Iterator[str]:
    """A private folder beside `target`, removed after; a full or locked disk is one line."""
    try:
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".briefing-pdf-") as folder:
            yield folder
    except OSError as err:
        raise OutputError(
            f"{target}: cannot make the PDF in {target.parent} ({err.strerror}); nothing was "
            "changed; free some space there or choose another folder"
        ) from err


# What pdf_defect reads: the trailer's catalog (/Root), the catalog's page tree, its count.
PDF_ROOT = re.compile(rb"/Root\s+(\d+)\s+(\d+)\s+R")
PDF_PAGES = re.compile(rb"/Pages\s+(\d+)\s+(\d+)\s+R")
PDF_COUNT = re.compile(rb"/Count\s+(\d+)")
PDF_END = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*\Z")
PDF_TAIL = 1024  # bytes at the end of a PDF that hold its last startxref and %%EOF


def pdf_defect(data: bytes) -> str | None:
    """What keeps `data` from being a complete PDF, or None: a cheap check, without poppler.

    A complete PDF starts with %PDF-, ends with startxref and %%EOF (a file cut short, as on a
    full disk, has no end), and its catalog's page tree counts at least one page. The catalog
    and page tree are found as LibreOffice writes them, outside compressed object streams.
    """
    if not data.startswith(b"%PDF-"):
        return "it does not start with %PDF-"
    end = PDF_END.search(data, max(0, len(data) - PDF_TAIL))
    if end is None:
        return "it does not end with %%EOF: it was cut short"
    start = int(end.group(1))
    root = PDF_ROOT.search(data, start) if start < len(data) else None
    if root is None:
        return "its trailer names no catalog"
    catalog = _pdf_object(data, int(root.group(1)), int(root.group(2)))
    tree = PDF_PAGES.search(catalog)
    pages = _pdf_object(data, int(tree.group(1)), int(tree.group(2))) if tree else b""
    count = PDF_COUNT.search(pages)
    if count is None or int(count.group(1)) == 0:
        return "it has no pages"
    return None


def _pdf_object(data: bytes, number: int, generation: int) -> bytes:
    """The body of object `number` (its last definition, as an update overrides), or b""."""
    # bytes.rfind finds "12 0 obj" as LibreOffice writes it in a few milliseconds where a
    # regular expression takes a third of a second on 10 MB; the expression reads the rest.
    header = b"%d %d obj" % (number, generation)
    at = data.rfind(header)
    while at > 0 and data[at - 1 : at].isdigit():  # "112 0 obj" when looking for "12 0 obj"
        at = data.rfind(header, 0, at)
    if at > 0:
        end = data.find(b"endobj", at)
        return data[at + len(header) : end if end >= 0 else len(data)]
    body = b""
    pattern = rb"(?<!\d)%d\s+%d\s+obj\b(.*?)endobj" % (number, generation)
    for found in re.finditer(pattern, data, re.S):
        body = found.group(1)
    return body


def offline_profile(folder: Path) -> str:
    """A new LibreOffice user profile in `folder` that fetches nothing; returns its URI."""
    settings = folder / "user" / "registrymodifications.xcu"
    settings.parent.mkdir(parents=True)
    settings.write_text(OFFLINE_SETTINGS, encoding="utf-8")
    return folder.resolve().as_uri()


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
    *,
    to: str,
    subject: str,
    body: str,
    html: str | None = None,
    attachments: Sequence[Attachment],
    date: dt.datetime,
) -> bytes:
    """An email draft (.eml) with the memo attached, which mail clients open ready to send.

    `to` holds the recipients' addresses, separated by commas. The body is plain text, with
    `html` as its alternative for clients that show HTML. Each attachment is read from its
    path and named in the email by its name.
    """
    # The email package is imported by the one command option that writes an email: --email.
    import email.utils
    from email.message import EmailMessage

    message = EmailMessage()
    message["To"] = recipients(to)
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
    return message.as_bytes(policy=whole_lines)


def recipients(to: str) -> list[Address]:
    """Each address in `to` (separated by commas), its domain in IDNA's ASCII form.

    Given a domain in other scripts, the email package writes an RFC 2047 encoded word
    ("desk@=?utf-8?q?b=C3=BCcher?=.de"), which no mail server delivers to.
    """
    import email.utils
    from email.headerregistry import Address

    found = []
    for _, address in email.utils.getaddresses([to]):
        local, at, domain = address.rpartition("@")
        if not (at and local and domain and local.isascii()):
            raise OutputError(
                f"{address!r} cannot be written in an email's To header; write addresses such "
                "as desk@example.org, separated by commas"
            )
        if not domain.isascii():
            # The pipeline hands over email-validator's IDNA 2008 form already; the codec
            # (IDNA 2003) serves any other caller.
            try:
                domain = domain.encode("idna").decode("ascii")
            except UnicodeError as err:
                raise OutputError(
                    f"{address!r}: its domain cannot be written in IDNA's ASCII form; "
                    "check the address"
                ) from err
        found.append(Address(username=local, domain=domain))
    return found


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
