"""Reading a workbook saved as .ods against the same workbook as .xlsx: time and memory.

Run: python bench/bench_ods.py [--runs N] [--rows N ...] [--small]

For the seed and for desk workbooks of N figure rows (written by bench_desk.py, 10,000 by
default), LibreOffice saves the .xlsx as .ods (`soffice --headless --convert-to ods`; it must be
installed). Then, each in fresh processes, it measures the read alone (the time inside the
process, from the call to the raw cells) and `check` as a whole (read, validation, quotes):
the .xlsx through sheetxml.py, the .ods through odsxml.py, and, when python-calamine is
installed, the .ods through calamine's `to_python` as the fast reader it is (values only: it
gives error cells and formulas never calculated as blanks, and no hidden rows). Medians of N
runs; peak is the largest max RSS of the process over the runs; count is the cells a read
gave, or the problems `check` found. `--small` reads the seed and
1,000 rows once each (tests run it).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "workbooks" / "ceasefire-2024-06-14.xlsx"
DESK = ROOT / "bench" / "bench_desk.py"

READ = """
import json, resource, sys, time
from pathlib import Path
path, how = Path(sys.argv[1]), sys.argv[2]
if how == "calamine":
    import python_calamine
    started = time.perf_counter()
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    cells = sum(
        sum(1 for value in row if value != "")
        for name in book.sheet_names
        for row in book.get_sheet_by_name(name).to_python()
    )
elif how == "check":
    from briefing.pipeline import check_workbook
    started = time.perf_counter()
    report = check_workbook(path)
    cells = len(report.problems)
else:
    from briefing import odsxml, sheetxml
    reader = odsxml if how == "odsxml" else sheetxml
    started = time.perf_counter()
    raw = reader.read_workbook(path)
    cells = sum(len(row.cells) for sheet in raw.sheets for row in sheet.rows)
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak": peak, "cells": cells}))
"""


def measure(path: Path, how: str, runs: int) -> tuple[float, float, int]:
    """(median seconds, peak MB, cells or problems) of one way of reading, in fresh processes."""
    seconds, peaks, counted = [], [], 0
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-c", READ, str(path), how],
            capture_output=True,
            text=True,
            check=False,
            timeout=1800,
        )
        if result.returncode != 0:
            raise SystemExit(f"{how} of {path} failed: {result.stderr[-800:]}")
        found = json.loads(result.stdout)
        seconds.append(found["seconds"])
        peaks.append(found["peak"])
        counted = found["cells"]
    return statistics.median(seconds), max(peaks), counted


def to_ods(source: Path, folder: Path) -> Path:
    """`source` saved as .ods by LibreOffice, with a profile of its own."""
    soffice = shutil.which("soffice")
    if soffice is None:
        raise SystemExit("LibreOffice (soffice) is not installed: it saves the .ods compared")
    profile = (folder / "profile").as_uri()
    subprocess.run(
        [soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "ods",
         "--outdir", str(folder), str(source)],
        capture_output=True,
        check=True,
        timeout=1800,
    )  # fmt: skip
    converted = folder / f"{source.stem}.ods"
    if not converted.is_file():
        raise SystemExit(f"LibreOffice wrote no .ods for {source}")
    return converted


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per figure (median)")
    parser.add_argument("--rows", type=int, nargs="*", default=[10_000], help="figure rows")
    parser.add_argument("--small", action="store_true", help="the seed and 1,000 rows, once")
    args = parser.parse_args()
    runs = 1 if args.small else args.runs
    sizes = [1_000] if args.small else args.rows
    # calamine is compared only where someone installed it: briefing does not depend on it.
    ways = ["sheetxml", "odsxml"]
    if importlib.util.find_spec("python_calamine") is not None:
        ways.append("calamine")
    print(f"briefing .ods benchmark: median of {runs} fresh process(es); time inside the process")
    print(f"{'what':<36}{'rows':>10}{'median s':>10}{'peak MB':>9}{'count':>10}")
    with tempfile.TemporaryDirectory() as temporary:
        # The seed's Sources name ../seeds/…: its .ods is checked beside a copy of that folder.
        folder = Path(temporary) / "workbooks"
        folder.mkdir()
        shutil.copytree(ROOT / "seeds", folder.parent / "seeds")
        workbooks = [("seed", SEED)]
        for rows in sizes:
            path = folder / f"desk-{rows}.xlsx"
            subprocess.run([sys.executable, str(DESK), "--make", str(path), str(rows)], check=True)
            workbooks.append((f"{rows + 1:,}", path))
        for label, xlsx in workbooks:
            ods = to_ods(xlsx, folder)
            read = {}
            for how in ways:
                seconds, peak, cells = measure(xlsx if how == "sheetxml" else ods, how, runs)
                read[how] = seconds
                name = {"sheetxml": "read .xlsx (sheetxml)", "odsxml": "read .ods (odsxml)"}
                what = name.get(how, "read .ods (calamine, values only)")
                print(f"{what:<36}{label:>10}{seconds:>10.3f}{peak:>9.0f}{cells:>10,}")
            for suffix, path in ((".xlsx", xlsx), (".ods", ods)):
                seconds, peak, problems = measure(path, "check", runs)
                what = f"check {suffix}"
                print(f"{what:<36}{label:>10}{seconds:>10.3f}{peak:>9.0f}{problems:>10,}")
            ratio = read["odsxml"] / read["sheetxml"]
            print(f"ratio read .ods / read .xlsx at {label} rows: {ratio:.2f}")


if __name__ == "__main__":
    main()
