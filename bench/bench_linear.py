"""Time and peak memory of the paths that were quadratic: extract by article size, and `check`
on workbooks whose merged ranges reach Excel's last row or column.

Run: python bench/bench_linear.py [--runs N] [--small]. Targets (issue 11): a 1 MB article
extracted in under 2 s and a 20 MB one within a minute or refused up front; each merged-range
workbook checked in under 2 s. Medians of N fresh processes; --small runs the smallest article
and one merged range once, as tests/test_bench_linear.py does.

The article is the seed article again and again, each copy's sentences made its own (a
repeated sentence is extracted once), so that every megabyte gives as many candidates as the
seed's text does: about 6,900 rows. "seconds" is the wall time, "CPU s" what the process
used, which a busy machine does not inflate.
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED_ARTICLE = ROOT / "seeds" / "putin-ceasefire-conditions-2024-06-14.txt"
MB = 1 << 20
FIGURES_PART = "xl/worksheets/sheet5.xml"  # the Figures sheet of a workbook `init` writes

EXTRACT = """
import resource, sys, time
start = time.perf_counter()
from pathlib import Path
from briefing import pipeline
from briefing.errors import BriefingError
try:
    result = pipeline.extract_candidates(Path(sys.argv[1]), Path(sys.argv[2]))
    outcome = f"{sum(result.counts.values()):,} rows"
except BriefingError as err:
    outcome = "Error: " + str(err).split(": ", 2)[-1][:60]
usage = resource.getrusage(resource.RUSAGE_SELF)
print(time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, outcome)
"""

CHECK = """
import resource, sys, time
start = time.perf_counter()
from pathlib import Path
from briefing import pipeline
from briefing.errors import BriefingError
try:
    report = pipeline.check_workbook(Path(sys.argv[1]))
    outcome = f"{report.errors} errors, {report.warnings} warnings"
except BriefingError as err:
    outcome = "Error: " + str(err).split(": ", 1)[-1][:60]
usage = resource.getrusage(resource.RUSAGE_SELF)
print(time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, outcome)
"""

MERGES = {
    "H1:XFD1048576": "H1:XFD1048576",
    "a whole column (H2:H1048576)": "H2:H1048576",
    "the whole sheet (A1:XFD1048576)": "A1:XFD1048576",
}


def write_article(path: Path, size: int) -> None:
    """An article of `size` bytes: the seed's text, each copy's sentences numbered apart."""
    text = SEED_ARTICLE.read_text(encoding="utf-8")
    parts, total, copy = [text], len(text), 0
    while total < size:
        copy += 1
        part = text.replace(". ", f" (part {copy}). ").replace(".\n", f" (part {copy}).\n")
        parts.append(part)
        total += len(part)
    path.write_text("".join(parts)[:size], encoding="utf-8")


def write_merged_workbook(path: Path, ref: str) -> None:
    """The seed workbook, as `init --example` writes it, with one merged range on Figures."""
    from briefing.pipeline import example_records
    from briefing.workbook import workbook_bytes

    source = zipfile.ZipFile(io.BytesIO(workbook_bytes(*example_records())))
    merge = f'</sheetData><mergeCells count="1"><mergeCell ref="{ref}"/></mergeCells>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            content = source.read(name)
            if name == FIGURES_PART:
                content = content.replace(b"</sheetData>", merge.encode(), 1)
            target.writestr(name, content)


def measure(
    script: str, arguments: list[str], runs: int, clean: Path | None
) -> tuple[float, float, float, str]:
    """Median seconds (wall and CPU), peak MB and the last outcome of `runs` fresh processes."""
    seconds: list[float] = []
    cpu: list[float] = []
    peaks: list[float] = []
    outcome = ""
    for _ in range(runs):
        if clean is not None:
            clean.unlink(missing_ok=True)
        run = subprocess.run(
            [sys.executable, "-c", script, *arguments],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        elapsed, used, peak, outcome = run.stdout.strip().split(" ", 3)
        seconds.append(float(elapsed))
        cpu.append(float(used))
        peaks.append(float(peak))
    return statistics.median(seconds), statistics.median(cpu), max(peaks), outcome


def line(case: str, size: str, seconds: float, cpu: float, peak: float, outcome: str) -> None:
    print(f"{case:<44}{size:>10}{seconds:>10.2f}{cpu:>10.2f}{peak:>10.0f}  {outcome}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--small", action="store_true", help="the smallest sizes, run once")
    args = parser.parse_args()
    runs = 1 if args.small else args.runs
    sizes = [MB // 20] if args.small else [MB // 4, MB, 2 * MB - MB // 10, 20 * MB]
    merges = dict(list(MERGES.items())[:1]) if args.small else MERGES
    print(f"briefing linear-cost benchmark: median of {runs} fresh process(es)")
    print(f"{'case':<44}{'size':>10}{'seconds':>10}{'CPU s':>10}{'peak MB':>10}  outcome")
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            article, workbook = Path(folder) / "article.txt", Path(folder) / "desk.xlsx"
            write_article(article, size)
            found = measure(EXTRACT, [str(article), str(workbook)], runs, clean=workbook)
            line("extract into a new workbook", f"{size / MB:.2f} MB", *found)
        for name, ref in merges.items():
            workbook = Path(folder) / "merged.xlsx"
            write_merged_workbook(workbook, ref)
            line(f"check, merged {name}", "seed", *measure(CHECK, [str(workbook)], runs, None))


if __name__ == "__main__":
    main()
