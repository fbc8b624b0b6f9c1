"""Rows that the reader's row shapes take poorly, read and validated with shapes and without.

Run: python bench/bench_shapes.py [--runs N] [--rows N] [--small]

The reader (briefing/sheetxml.py) matches a records sheet's rows against shapes learned from
the rows before them, and hands rows that fit over many at a time. This script writes the desk
benchmark's workbook (bench_desk.write_desk_workbook) and copies of it whose Figures rows
defeat that: two shapes taking turns row by row, rows cycling among five shapes, three columns
each in 8 and in 12 cell styles (the styles added to the workbook, copies of its text style);
and, for comparison, rows all alike and rows not alike as a desk's are. Each is read and
validated as `check` does it, quotes aside (read_raw_workbook, the records validated as they
are read), in fresh processes, with shapes (as shipped) and without (sheetxml.MAX_SHAPES = 0)
in turn. It prints the medians and their ratio. `--small`: 2,000 rows, once each (tests).
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from bench_desk import sheet_part, write_desk_workbook

MEASURE = """
import sys, time
from pathlib import Path
from briefing import sheetxml
from briefing.pipeline import cyclic_gc_paused, read_raw_workbook
from briefing.validate import RecordStreams, validate_workbook
if sys.argv[2] == "without":
    sheetxml.MAX_SHAPES = 0
with cyclic_gc_paused():
    started = time.perf_counter()
    streams = RecordStreams()
    raw = read_raw_workbook(Path(sys.argv[1]), None, streams)
    dossier = validate_workbook(raw, streams=streams)
    elapsed = time.perf_counter() - started
errors = [problem for problem in dossier.problems if problem.is_error]
assert not errors, errors[:3]
print(elapsed)
"""
TEXT_STYLE = 1  # the style of the workbook's text cells (ID, Location, Claimed by)
EXTRA_STYLES = 12  # copies of TEXT_STYLE added to the workbook, numbered from its last style on
COLUMNS = ("A", "D", "G")  # ID, Location, Claimed by: text cells in every row
# A sheet: its name, whether its rows are a desk's (bench_desk's mixed rows), and the style of
# each restyled cell by (row number, column letter, the first added style's number).
Restyle = Callable[[int, str, int], int]
SHEETS: tuple[tuple[str, bool, Restyle | None], ...] = (
    ("rows all alike", False, None),
    ("rows not alike (Excel's)", True, None),
    ("two shapes in turn", False, lambda row, column, first: first + row % 2),
    ("rows cycling among 5 shapes", False, lambda row, column, first: first + row % 5),
    (
        "3 columns in 8 styles each",
        False,
        lambda row, column, first: first + (row // (1 + COLUMNS.index(column))) % 8,
    ),
    (
        "3 columns in 12 styles each",
        False,
        lambda row, column, first: first + (row // (1 + COLUMNS.index(column))) % 12,
    ),
)
CELL = re.compile(rb'<c r="([A-Z]+)([0-9]+)" s="([0-9]+)"')
CELL_STYLES = re.compile(rb'<cellXfs count="([0-9]+)">(.*?)</cellXfs>', re.DOTALL)
STYLE = re.compile(rb"<xf [^>]*/>|<xf [^>]*>.*?</xf>", re.DOTALL)


def restyled(source: Path, target: Path, restyle: Restyle) -> None:
    """A copy of `source` whose Figures cells in COLUMNS (below the header) take `restyle`'s
    styles, EXTRA_STYLES copies of the text style added to the workbook's styles for them."""
    with zipfile.ZipFile(source) as package:
        part = sheet_part(package, "Figures")
        styles = package.read("xl/styles.xml")
        found = CELL_STYLES.search(styles)
        assert found is not None
        first = int(found[1])
        text_style = STYLE.findall(found[2])[TEXT_STYLE]
        added = f'<cellXfs count="{first + EXTRA_STYLES}">'.encode() + found[2]
        styles = styles.replace(found[0], added + text_style * EXTRA_STYLES + b"</cellXfs>", 1)

        def cell(match: re.Match[bytes]) -> bytes:
            letter, row = match[1].decode(), int(match[2])
            if row < 2 or letter not in COLUMNS:
                return match[0]
            return f'<c r="{letter}{row}" s="{restyle(row, letter, first)}"'.encode()

        sheet = CELL.sub(cell, package.read(part))
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as copy:
            for info in package.infolist():
                data = package.read(info)
                if info.filename == part:
                    data = sheet
                elif info.filename == "xl/styles.xml":
                    data = styles
                copy.writestr(info.filename, data)


def measure(path: Path, shapes: str) -> float:
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path), shapes],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"{path.name} ({shapes} shapes) failed: {result.stderr[-800:]}")
    return float(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--small", action="store_true", help="2,000 rows, once each")
    arguments = parser.parse_args()
    rows, runs = (2_000, 1) if arguments.small else (arguments.rows, arguments.runs)
    print(f"rows that shapes take poorly: read and validate, median of {runs} fresh process(es)")
    print(f"{'sheet':<34}{'rows':>9}{'shapes s':>10}{'without s':>11}{'ratio':>7}")
    with tempfile.TemporaryDirectory() as folder:
        alike, mixed = Path(folder, "alike.xlsx"), Path(folder, "mixed.xlsx")
        write_desk_workbook(alike, rows)
        write_desk_workbook(mixed, rows, mixed=True)
        for index, (name, desk, restyle) in enumerate(SHEETS):
            path = mixed if desk else alike
            if restyle is not None:
                path = Path(folder, f"sheet{index}.xlsx")
                restyled(alike, path, restyle)
            timings: dict[str, list[float]] = {"with": [], "without": []}
            for _ in range(runs):
                for shapes in timings:  # in turn, so that a noisy moment hits both
                    timings[shapes].append(measure(path, shapes))
            on, off = (statistics.median(timings[shapes]) for shapes in ("with", "without"))
            print(f"{name:<34}{rows:>9,}{on:>10.2f}{off:>11.2f}{on / off:>7.2f}")


if __name__ == "__main__":
    main()
