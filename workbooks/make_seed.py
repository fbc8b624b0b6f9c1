"""Write workbooks/ceasefire-2024-06-14.xlsx, the seed workbook, from the package's example records.

The records live in briefing/examples/ceasefire-2024-06-14.json, where a review can read them;
run `python workbooks/make_seed.py` after changing them. Analysts edit the .xlsx in Excel.
"""

from __future__ import annotations

from pathlib import Path

from briefing.output import write_atomically
from briefing.pipeline import example_records
from briefing.workbook import workbook_bytes

SEED = Path(__file__).resolve().parent / "ceasefire-2024-06-14.xlsx"


def main() -> None:
    records, briefing = example_records(with_files=True)
    write_atomically(SEED, workbook_bytes(records, briefing))
    print(f"Wrote {SEED}")


if __name__ == "__main__":
    main()
