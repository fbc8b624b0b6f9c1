"""Write the desk example: a month's workbook as of 14 June 2024 and its copy as of 13 June.

The records live in workbooks/desk-2024-06.json, where a review can read them; run
`python workbooks/make_desk.py` after changing them. Every fact in them comes from a public page
named in the Sources sheet, except the rows citing S46, which are made up for the example (the
General Staff's figures for 10 to 13 June and one withdrawn demand) and say so in their Note.
Hence the file names.

Beside each sheet's columns, a row in the JSON may carry (keys starting with '_'):
- "_added": the day it was entered; the 13 June copy leaves out rows added on 14 June;
- "_removed": the day it was deleted; only the 13 June copy holds it;
- "_was": its values in the 13 June copy, before the edits of 14 June.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from briefing.model import CellValue
from briefing.output import write_atomically
from briefing.schema import SCHEMA
from briefing.workbook import workbook_bytes

HERE = Path(__file__).resolve().parent
RECORDS = HERE / "desk-2024-06.json"
DESK = HERE / "desk-2024-06-made-up-figures.xlsx"
EARLIER = HERE / "desk-2024-06-made-up-figures-as-of-2024-06-13.xlsx"
EDITION_DAY = "2024-06-14"  # the day whose additions and edits the earlier copy lacks

Rows = Mapping[str, Sequence[Mapping[str, CellValue]]]
Fields = Mapping[str, CellValue]


def desk_records(*, before_edits: bool = False) -> tuple[Rows, Fields]:
    """The desk's records by sheet and its Briefing fields: as of 14 June, or as of 13 June."""
    data: dict[str, Any] = json.loads(RECORDS.read_text(encoding="utf-8"))
    briefing = _version(data.pop("Briefing"), before_edits=before_edits)
    assert briefing is not None
    sheets = {
        name: [
            _by_header(name, row)
            for entry in entries
            if (row := _version(entry, before_edits=before_edits)) is not None
        ]
        for name, entries in data.items()
        if not name.startswith("_")
    }
    return sheets, _by_header("Briefing", briefing)


def _by_header(sheet: str, row: dict[str, CellValue]) -> dict[str, CellValue]:
    """The row with each key the schema's header for it, where the JSON gives an older name."""
    for column in SCHEMA.sheet(sheet).columns:
        for alias in getattr(column, "aliases", ()):
            if alias in row and column.header not in row:
                row[column.header] = row.pop(alias)
    return row


def _version(entry: Mapping[str, Any], *, before_edits: bool) -> dict[str, CellValue] | None:
    """A row as one copy holds it, without the '_' keys; None when that copy has no such row."""
    if before_edits and entry.get("_added") == EDITION_DAY:
        return None
    if not before_edits and "_removed" in entry:
        return None
    row = {key: value for key, value in entry.items() if not key.startswith("_")}
    if before_edits:
        row.update(entry.get("_was", {}))
    return row


def write_desk(folder: Path = HERE) -> tuple[Path, Path]:
    """Write both workbooks into `folder`; returns (as of 14 June, as of 13 June)."""
    written = []
    for path, before_edits in ((DESK, False), (EARLIER, True)):
        records, briefing = desk_records(before_edits=before_edits)
        written.append(write_atomically(folder / path.name, workbook_bytes(records, briefing)))
    return written[0], written[1]


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    for path in write_desk(folder):
        print(f"Wrote {path}")


if __name__ == "__main__":
    main()
