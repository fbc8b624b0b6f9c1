"""Time and peak memory of `check` on hostile workbooks; each must end within seconds.

Run: python bench/bench_hostile.py [--runs N]. Target (issue 5): under 2 s and 300 MB each,
a clear error or a correct result. Medians of N fresh processes. Zip bombs are refused by the
compression ratio of a part (archive.MAX_RATIO), entity declarations by the 4 KB head scan or,
past it, by the streaming parse; empty styled rows are streamed past and none is kept.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from briefing.pipeline import example_records
from briefing.workbook import workbook_bytes

MEASURE = """
import resource, sys, time
start = time.perf_counter()
from pathlib import Path
from briefing import pipeline
from briefing.errors import BriefingError
try:
    report = pipeline.check_workbook(Path(sys.argv[1]))
    outcome = f"{report.errors} errors, {report.warnings} warnings"
except BriefingError as err:
    outcome = "Error: " + str(err)[:90]
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, outcome)
"""


def example_bytes() -> bytes:
    records, briefing = example_records()
    return workbook_bytes(records, briefing)


def rewrite_sheet(data: bytes, part: str, change: Callable[[str], str]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            content = source.read(name)
            if name == part:
                content = change(content.decode()).encode()
            target.writestr(name, content)
    return buffer.getvalue()


def zip_bomb(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            for _ in range(2048):  # 2 GB of zeros
                member.write(bytes(1 << 20))


def billion_laughs(path: Path) -> None:
    entities = '<!ENTITY l0 "lol">' + "".join(
        f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )

    def change(xml: str) -> str:
        head, _, body = xml.rpartition("?>")  # openpyxl writes no XML declaration
        body = body.replace(
            "</sheetData>",
            '<row r="99"><c r="A99" t="inlineStr"><is><t>&l9;</t></is></c></row></sheetData>',
        )
        declaration = f"{head}?>" if head else ""
        return f"{declaration}<!DOCTYPE worksheet [{entities}]>{body}"

    path.write_bytes(rewrite_sheet(example_bytes(), "xl/worksheets/sheet5.xml", change))


def late_doctype(path: Path) -> None:
    """Billion laughs again, behind 10 KB of comment: past the 4 KB head scan, refused by expat."""
    entities = '<!ENTITY l0 "lol">' + "".join(
        f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )

    def change(xml: str) -> str:
        body = xml.replace(
            "</sheetData>",
            '<row r="99"><c r="A99" t="inlineStr"><is><t>&l9;</t></is></c></row></sheetData>',
        )
        return f"<!--{' ' * 10_000}--><!DOCTYPE worksheet [{entities}]>{body}"

    path.write_bytes(rewrite_sheet(example_bytes(), "xl/worksheets/sheet5.xml", change))


def styled_rows(count: int) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        rows = "".join(f'<row r="{i}" s="1" customFormat="1"/>' for i in range(20, 20 + count))
        change = lambda xml: xml.replace("</sheetData>", rows + "</sheetData>")  # noqa: E731
        path.write_bytes(rewrite_sheet(example_bytes(), "xl/worksheets/sheet7.xml", change))

    return make


def stray_cell(path: Path) -> None:
    change = lambda xml: xml.replace(  # noqa: E731
        "</sheetData>",
        '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>',
    )
    path.write_bytes(rewrite_sheet(example_bytes(), "xl/worksheets/sheet7.xml", change))


CASES: dict[str, Callable[[Path], None]] = {
    "zip expanding to 2 GB": zip_bomb,
    "billion laughs in a sheet": billion_laughs,
    "billion laughs after 10 KB": late_doctype,
    "1,000,000 empty styled rows": styled_rows(1_000_000),
    "100,000 empty styled rows": styled_rows(100_000),
    "a stray cell at XFD1048576": stray_cell,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--make", nargs=2, metavar=("CASE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make:
        CASES[args.make[0]](Path(args.make[1]))
        return
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in CASES:
            path = Path(folder) / "hostile.xlsx"
            # Made in a process of its own: a child forked from a parent that held the big
            # file would start with the parent's peak memory.
            subprocess.run([sys.executable, __file__, "--make", name, str(path)], check=True)
            seconds, memory, outcome = [], [], ""
            for _ in range(args.runs):
                run = subprocess.run(
                    [sys.executable, "-c", MEASURE, str(path)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                elapsed, rss, outcome = run.stdout.strip().split(" ", 2)
                seconds.append(float(elapsed))
                memory.append(int(rss) / 1024)
            results[name] = {
                "median_s": round(statistics.median(seconds), 2),
                "max_rss_mb": round(max(memory), 1),
                "outcome": outcome.replace(folder, "…"),
            }
            path.unlink()
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
