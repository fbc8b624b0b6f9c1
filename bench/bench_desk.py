"""The desk's running workbook at 100,000 figure rows and at Excel's row limit: time and memory.

Run: python bench/bench_desk.py [--runs N] [--small]

Writes workbooks of N figure rows spread over 300 days (the Figures sheet's XML streamed into
the zip row by row, the rest made by workbook_bytes from the seed records), then measures, in
fresh processes, the median wall time and the peak memory (max RSS of the process tree, from
wait4) of: `briefing --help`; `briefing build` of the seed; the read alone with every cell kept
(what the reader costs without validation), `briefing check` and `briefing build` (one day's
edition) at 100,000 rows and at 1,048,576 rows (Excel's limit); and the naive pipeline at
100,000 rows (openpyxl load_workbook plus a docxtpl render of the day's rows). It prints one
table, the ratios, and where `check`'s time goes: reading and validating (one pass, as the
records sheets are validated row by row while they are read), then the quote checks.
`--small` does the same at a few thousand rows, once each, in seconds (tests run it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from briefing.pipeline import example_records
from briefing.schema import SCHEMA
from briefing.workbook import workbook_bytes

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "workbooks" / "ceasefire-2024-06-14.xlsx"
BRIEFING = Path(sys.executable).with_name("briefing")
FULL = (100_000, 1_048_575)  # figure rows below the header: 1,048,576 rows in all
SMALL = (2_000, 5_000)

MIXED = "build: rows not alike (Excel's)"  # see figure(mixed=True)
HIGHLIGHT = 4  # a cell style of the seed's workbook showing a number as a number (bold)
DAYS = 300
LAST_DAY = dt.date(2024, 6, 14)  # the seed's Briefing date: the newest day's edition
EXCEL_EPOCH = dt.date(1899, 12, 30)
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CLAIMANTS = (
    ("Ukraine's air force", "Ukraine", "drones shot down", "drones"),
    ("Russian Ministry of Defence", "Russia", "Ukrainian drones shot down", "drones"),
    ("Kharkiv regional administration", "Ukraine", "people injured", "people"),
    ("Belgorod governor", "Russia", "people injured", "people"),
)
REGIONS = ("Sumy region", "Kharkiv region", "Belgorod region", "Donetsk region", "Odesa region")


def day_of(index: int, rows: int) -> dt.date:
    """Row `index` of `rows` falls on one of the 300 days up to LAST_DAY, oldest first."""
    return LAST_DAY - dt.timedelta(days=DAYS - 1 - index * DAYS // max(rows, 1))


def figure(index: int, rows: int, mixed: bool = False) -> dict[str, str | int | dt.date]:
    """One figure row by header; its Value stands in its Quote, as `check` requires.

    `mixed` leaves some optional cells empty and gives some figures a period (Until), each
    on rows of its own rhythm, so that few rows in a row hold the same cells.
    """
    claimed_by, country, metric, unit = CLAIMANTS[index % len(CLAIMANTS)]
    value = (index * 37) % 480 + 2
    day = day_of(index, rows)
    region = REGIONS[index % len(REGIONS)]
    empty = mixed and index % 5 == 0
    return {
        "ID": f"F{index + 1}",
        "Date": day,
        "Until": day + dt.timedelta(days=1) if mixed and index % 7 == 0 else "",
        "Location": "" if empty else f"Sector {index % 97}",
        "Region": region,
        "Country": "" if mixed and index % 11 == 0 else country,
        "Claimed by": claimed_by,
        "Event type": "air defence" if unit == "drones" else "shelling",
        "Metric": metric,
        "Value": value,
        "Unit": unit,
        "Status": "claimed",
        "Source": "S1",
        "Quote": f"On {day:%d %B}, {claimed_by} reported {value} {metric} in the {region}.",
        "Note": "" if mixed and index % 3 == 0 else "Made up for the benchmark; not a real figure.",
    }


def sheet_part(archive: zipfile.ZipFile, name: str) -> str:
    """The part holding the sheet called `name` (bench_shapes.py reuses it)."""
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels.iter(f"{{{RELS}}}Relationship")}
    for sheet in book.iter(f"{{{MAIN}}}sheet"):
        if sheet.get("name") == name:
            target = targets[sheet.get(f"{{{DOC_RELS}}}id")]
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    raise KeyError(name)


def _cell(reference: str, style: str, value: object) -> str:
    if isinstance(value, dt.date):
        return f'<c r="{reference}"{style} t="n"><v>{(value - EXCEL_EPOCH).days}</v></c>'
    if isinstance(value, int):
        return f'<c r="{reference}"{style} t="n"><v>{value}</v></c>'
    return f'<c r="{reference}"{style} t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def _rows(
    header_xml: str, letters: dict[str, str], styles: dict[str, str], rows: int, mixed: bool
) -> Iterator[str]:
    """The sheet's rows; `mixed` ones as Excel writes them: an empty cell that is formatted
    kept as such (<c r="D5" s="1"/>), a row's span of columns noted, some cells highlighted."""
    yield header_xml
    spans = f' spans="1:{len(letters)}"' if mixed else ""
    for index in range(rows):
        number = index + 2
        values = figure(index, rows, mixed)
        # Every fourth Value highlighted: another of the workbook's styles, a plain number's.
        marked = {"Value": f' s="{HIGHLIGHT}"'} if mixed and index % 4 == 1 else {}
        cells = "".join(
            _cell(f"{letter}{number}", marked.get(header, styles.get(letter, "")), values[header])
            if values.get(header, "") != ""
            else f'<c r="{letter}{number}"{styles.get(letter, "")}/>'
            for header, letter in letters.items()
            if values.get(header, "") != "" or (mixed and header in ("Location", "Country"))
        )
        yield f'<row r="{number}"{spans}>{cells}</row>'


def write_desk_workbook(path: Path, rows: int, mixed: bool = False) -> None:
    """A valid workbook at `path` with `rows` figures over 300 days; the rest is the seed's.

    `mixed`: rows that hold different cells, as a desk's do (see figure and _rows).
    """
    records, briefing = example_records()
    base = workbook_bytes(records, briefing)
    source = zipfile.ZipFile(io.BytesIO(base))
    part = sheet_part(source, "Figures")
    template = source.read(part).decode("utf-8")
    head, rest = template.split("<sheetData>", 1)
    body, tail = rest.split("</sheetData>", 1)
    header_xml = re.match(r"<row [^>]*>.*?</row>", body, re.DOTALL)
    first_row = re.search(r'<row r="2"[^>]*>(.*?)</row>', body, re.DOTALL)
    assert header_xml is not None
    assert first_row is not None
    # Each column's header (from the seed's own header row) and the style its cells carry.
    letters = {
        text: letter
        for letter, text in re.findall(
            r'<c r="([A-Z]+)1"[^>]*><is><t>([^<]*)</t></is></c>', header_xml.group(0)
        )
    }
    unknown = set(letters) - {column.header for column in SCHEMA.sheet("Figures").columns}
    assert not unknown, unknown
    styles = {
        letter: f' s="{style}"'
        for letter, style in re.findall(r'<c r="([A-Z]+)2" s="(\d+)"', first_row.group(0))
    }
    cell_styles = ElementTree.fromstring(source.read("xl/styles.xml")).find(f"{{{MAIN}}}cellXfs")
    assert cell_styles is not None
    assert cell_styles[HIGHLIGHT].get("numFmtId") == "0", "HIGHLIGHT is no plain number's style"
    last_column = max(letters.values(), key=lambda letter: (len(letter), letter))
    head = re.sub(
        r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{last_column}{rows + 1}"/>', head
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == part:
                with target.open(part, "w", force_zip64=True) as member:
                    member.write(f"{head}<sheetData>".encode())
                    batch: list[str] = []
                    for line in _rows(header_xml.group(0), letters, styles, rows, mixed):
                        batch.append(line)
                        if len(batch) >= 2000:
                            member.write("".join(batch).encode())
                            batch.clear()
                    member.write(("".join(batch) + f"</sheetData>{tail}").encode())
                continue
            if info.filename.startswith("xl/tables/") and b'displayName="FiguresTable"' in data:
                data = re.sub(rb'ref="A1:([A-Z]+)\d+"', f'ref="A1:\\g<1>{rows + 1}"'.encode(), data)
            target.writestr(info.filename, data)


# ---------------------------------------------------------------------------- measuring

STAGES = """
import json, sys, time
from pathlib import Path
from briefing.pipeline import cyclic_gc_paused
from briefing.provenance import verify_provenance
from briefing.sheetxml import read_workbook
from briefing.validate import RecordStreams, validate_workbook
path = Path(sys.argv[1])
with cyclic_gc_paused():  # as check runs them: records sheets validated as they are read
    started = time.perf_counter()
    streams = RecordStreams()
    dossier = validate_workbook(read_workbook(path, None, streams), streams=streams)
    validated = time.perf_counter()
    verify_provenance(dossier)
    checked = time.perf_counter()
times = {"read and validate": validated - started, "quotes": checked - validated}
print(json.dumps(times))
"""

READ = """
import sys
from pathlib import Path
from briefing.sheetxml import read_workbook
read_workbook(Path(sys.argv[1]))
"""

NAIVE = """
import datetime as dt, sys
import openpyxl
from docx import Document
from docxtpl import DocxTemplate
path, template, out, day = sys.argv[1], sys.argv[2], sys.argv[3], dt.date.fromisoformat(sys.argv[4])
sheet = openpyxl.load_workbook(path)["Figures"]
rows = sheet.iter_rows(values_only=True)
header = [str(h) for h in next(rows)]
figures = [dict(zip(header, row)) for row in rows]
today = [f for f in figures if isinstance(f["Date"], dt.datetime) and f["Date"].date() == day]
memo = DocxTemplate(template)
memo.render({"day": day.isoformat(), "figures": today})
memo.save(out)
print(len(today))
"""


def naive_template(path: Path) -> None:
    """A docx with a table of the day's figures, one docxtpl row loop."""
    from docx import Document

    document = Document()
    document.add_paragraph("Figures for {{ day }}")
    table = document.add_table(rows=3, cols=4)
    table.rows[0].cells[0].text = "{%tr for f in figures %}"
    for cell, key in zip(table.rows[1].cells, ("ID", "Claimed by", "Metric", "Value"), strict=True):
        cell.text = "{{ f['" + key + "'] }}"
    table.rows[2].cells[0].text = "{%tr endfor %}"
    document.save(str(path))


@dataclass(frozen=True)
class Measured:
    seconds: float  # median wall time
    peak_mb: float  # the largest max RSS of the process tree over the runs
    runs: int


def measure(command: Sequence[str], runs: int) -> Measured:
    """Median wall time and peak RSS of `command`, each run a fresh process tree."""
    seconds, peaks = [], []
    for _ in range(runs):
        started = time.perf_counter()
        with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as child:
            _, status, usage = os.wait4(child.pid, 0)
            elapsed = time.perf_counter() - started
            child.returncode = os.waitstatus_to_exitcode(status)
            errors = child.stderr.read().decode() if child.stderr else ""
        if child.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed ({child.returncode}): {errors[-500:]}")
        seconds.append(elapsed)
        peaks.append(usage.ru_maxrss / 1024)
    return Measured(statistics.median(seconds), max(peaks), runs)


def stages(path: Path, runs: int) -> dict[str, float]:
    """Median seconds of each stage of `check`, each run in a fresh process."""
    found: dict[str, list[float]] = {}
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-c", STAGES, str(path)], capture_output=True, text=True, check=True
        )
        for stage, seconds in __import__("json").loads(result.stdout).items():
            found.setdefault(stage, []).append(seconds)
    return {stage: statistics.median(values) for stage, values in found.items()}


def sizes(path: Path) -> str:
    with zipfile.ZipFile(path) as package:
        sheet_xml = sum(
            i.file_size for i in package.infolist() if i.filename.startswith("xl/worksheets/")
        )
    return f"{path.stat().st_size / 2**20:,.1f} MB file, {sheet_xml / 2**20:,.0f} MB of sheet XML"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per figure (median)")
    parser.add_argument("--small", action="store_true", help="a few thousand rows, one run each")
    parser.add_argument("--make", nargs=2, metavar=("PATH", "ROWS"), help=argparse.SUPPRESS)
    parser.add_argument("--mixed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make:
        write_desk_workbook(Path(args.make[0]), int(args.make[1]), args.mixed)
        return
    runs = 1 if args.small else args.runs
    small_rows, large_rows = SMALL if args.small else FULL
    day = LAST_DAY.isoformat()
    lines: list[tuple[str, str, Measured]] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        memo = work / "memo.docx"
        lines.append(("briefing --help", "", measure([str(BRIEFING), "--help"], runs)))
        seed = measure([str(BRIEFING), "build", str(SEED), "-o", str(memo)], runs)
        lines.append(("build: the seed memo", "seed", seed))
        template = work / "naive.docx"
        naive_template(template)
        results: dict[tuple[str, int], Measured] = {}
        breakdown: dict[int, dict[str, float]] = {}
        for rows in (small_rows, large_rows):
            path = work / f"desk-{rows}.xlsx"
            started = time.perf_counter()
            # Made in a process of its own, so no measured process inherits its memory.
            subprocess.run([sys.executable, __file__, "--make", str(path), str(rows)], check=True)
            notes.append(
                f"{rows + 1:,} rows: {sizes(path)}; "
                f"written in {time.perf_counter() - started:.0f} s"
            )
            label = f"{rows + 1:,}"
            commands = {
                "read alone, kept whole": [sys.executable, "-c", READ, str(path)],
                "check": [str(BRIEFING), "check", str(path)],
                "build: one day's edition": [str(BRIEFING), "build", str(path), "-o", str(memo)],
            }
            if rows == small_rows:
                commands["naive: openpyxl load + docxtpl"] = [
                    sys.executable,
                    "-c",
                    NAIVE,
                    str(path),
                    str(template),
                    str(memo),
                    day,
                ]
            for name, command in commands.items():
                results[(name, rows)] = measured = measure(command, runs)
                lines.append((name, label, measured))
            breakdown[rows] = stages(path, runs)
            path.unlink()
            if rows == small_rows:
                mixed = work / f"desk-{rows}-mixed.xlsx"
                make = [sys.executable, __file__, "--make", str(mixed), str(rows), "--mixed"]
                subprocess.run(make, check=True)
                build = [str(BRIEFING), "build", str(mixed), "-o", str(memo)]
                results[(MIXED, rows)] = measured = measure(build, runs)
                lines.append((MIXED, label, measured))
                mixed.unlink()
    print_table(lines, results, breakdown, notes, small_rows, large_rows, runs)


def print_table(
    lines: list[tuple[str, str, Measured]],
    results: dict[tuple[str, int], Measured],
    breakdown: dict[int, dict[str, float]],
    notes: list[str],
    small_rows: int,
    large_rows: int,
    runs: int,
) -> None:
    print(
        f"briefing desk benchmark: median of {runs} fresh process(es); "
        "peak = max RSS of the process tree"
    )
    for note in notes:
        print(f"  {note}")
    print(f"{'what':<34} {'rows':>10} {'median s':>9} {'peak MB':>8}")
    for name, label, measured in lines:
        print(f"{name:<34} {label:>10} {measured.seconds:>9.2f} {measured.peak_mb:>8.0f}")
    build = results[("build: one day's edition", small_rows)].seconds
    naive = results[("naive: openpyxl load + docxtpl", small_rows)].seconds
    check = results[("check", small_rows)].seconds
    print(
        f"ratio build / naive at {small_rows + 1:,} rows: {build / naive:.2f} (target at most 0.25)"
    )
    print(f"ratio check / naive at {small_rows + 1:,} rows: {check / naive:.2f}")
    for rows in (small_rows, large_rows):
        parts = breakdown[rows]
        total = sum(parts.values())
        shares = ", ".join(
            f"{stage} {seconds:.3f} s ({seconds / total:.0%})" for stage, seconds in parts.items()
        )
        edition = (
            results[("build: one day's edition", rows)].seconds - results[("check", rows)].seconds
        )
        print(
            f"stages of check at {rows + 1:,} rows: {shares}; "
            f"build adds {edition:.2f} s (edition, context, render, write)"
        )


if __name__ == "__main__":
    main()
