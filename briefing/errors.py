"""The one exception tree: every error a user can cause is a BriefingError."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from briefing.model import Problem


class BriefingError(Exception):
    """Base class: raised for anything the user can fix; its message is the one line they see."""


class WorkbookUnreadable(BriefingError):
    """Raised when a file cannot be opened as an .xlsx workbook at all."""


class WorkbookNotAppendable(BriefingError):
    """Raised when rows cannot be added to a workbook without losing something it holds."""


class TargetExists(BriefingError):
    """Raised when a command would replace an existing file and --force was not given."""


class InvalidWorkbook(BriefingError):
    """Raised when a workbook opens but its contents break the schema."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        errors = sum(1 for p in self.problems if p.is_error)
        super().__init__(f"the workbook has {errors} error{'s' if errors != 1 else ''}")


class InvalidEarlierWorkbook(BriefingError):
    """Raised when the earlier copy of a workbook, given to compare with, has errors."""


class EmptyEdition(BriefingError):
    """Raised when an edition's window holds none of the workbook's dated records."""


class TemplateError(BriefingError):
    """Raised when a memo template cannot be read, parsed or rendered."""


class OutputError(BriefingError):
    """Raised when the memo cannot be written where it was asked to go."""


class UnreadableText(BriefingError):
    """Raised when a text file (an article, a source's copy) cannot be read as UTF-8 text."""


class ExtractError(BriefingError):
    """Raised when an article's candidates cannot be added to a workbook."""


class SourcesFolderError(BriefingError):
    """Raised when the folder given to --sources-dir does not exist or is not a folder."""


class WorkbookLocked(BriefingError):
    """Raised when another command holds a workbook's lock for longer than a command waits."""
