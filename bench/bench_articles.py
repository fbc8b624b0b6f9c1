"""Time, peak memory and fidelity of reading an article from a web page, a Word document and a
PDF that LibreOffice made, by article length.

Run: python bench/bench_articles.py [--runs N] [--small]. Needs LibreOffice (soffice) for the
PDFs. Medians of N fresh processes; --small reads the one-copy article once in each format, as
tests/test_bench_articles.py does.

The article is the seed article again and again, each copy's lines marked with its number (a
web page's repeated paragraphs are dropped by trafilatura as boilerplate). "lines kept" counts
the source's non-empty lines found whole among the lines read: a PDF line wrapped inside a
sentence and not joined again, or a paragraph lost, shows there. "seconds" is the wall time,
"CPU s" what the process used, which a busy machine does not inflate.
"""

from __future__ import annotations

import argparse
import html
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import docx

ROOT = Path(__file__).resolve().parent.parent
SEED_ARTICLE = ROOT / "seeds" / "putin-ceasefire-conditions-2024-06-14.txt"
COPIES = (1, 16, 64, 256)

READ = """
import resource, sys, time
start = time.perf_counter()
from pathlib import Path
from briefing.articles import read_article
from briefing.errors import BriefingError
try:
    lines = set(read_article(Path(sys.argv[1])).text.split("\\n"))
    wanted = [line.strip() for line in Path(sys.argv[2]).read_text(encoding="utf-8").split("\\n")]
    wanted = [line for line in wanted if line]
    outcome = f"{sum(line in lines for line in wanted)}/{len(wanted)} lines kept"
except BriefingError as err:
    outcome = "Error: " + str(err).split(": ", 1)[-1][:60]
usage = resource.getrusage(resource.RUSAGE_SELF)
print(time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, outcome)
"""


def article_text(copies: int) -> str:
    """The seed article `copies` times, each line of each copy made its own."""
    lines = SEED_ARTICLE.read_text(encoding="utf-8").split("\n")
    return "\n".join(
        f"{line} ({copy})" if line.strip() else line
        for copy in range(1, copies + 1)
        for line in lines
    )


def write_formats(text: str, folder: Path) -> dict[str, Path]:
    """The article as a web page, a Word document and a PDF LibreOffice prints from its text."""
    source = folder / "article.txt"
    source.write_text(text, encoding="utf-8")
    lines = [line for line in text.split("\n") if line.strip()]
    page = folder / "article.html"
    paragraphs = "".join(f"<p>{html.escape(line)}</p>\n" for line in lines[1:])
    page.write_text(
        f"<html><head><title>{html.escape(lines[0])}</title></head><body>"
        f"<nav><a href='/'>Home</a></nav><article><h1>{html.escape(lines[0])}</h1>"
        f"{paragraphs}</article></body></html>",
        encoding="utf-8",
    )
    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    document.save(str(folder / "article.docx"))
    soffice = shutil.which("soffice")
    if soffice is None:
        sys.exit("bench_articles: LibreOffice (soffice) is needed to make the PDFs")
    subprocess.run(
        [soffice, f"-env:UserInstallation=file://{folder}/profile", "--headless",
         "--convert-to", "pdf", "--outdir", str(folder), str(source)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    return {kind: folder / f"article.{kind}" for kind in ("html", "docx", "pdf")}


def measure(article: Path, source: Path, runs: int) -> tuple[float, float, float, str]:
    """Median seconds, median CPU seconds, peak MB and the outcome of reading `article`."""
    results = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", READ, str(article), str(source)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        seconds, cpu, peak, outcome = done.stdout.strip().split(" ", 3)
        results.append((float(seconds), float(cpu), float(peak), outcome))
    return (
        statistics.median(r[0] for r in results),
        statistics.median(r[1] for r in results),
        max(r[2] for r in results),
        results[0][3],
    )


def main(argv: list[str] | None = None) -> list[str]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--small", action="store_true")
    args = parser.parse_args(argv)
    copies = COPIES[:1] if args.small else COPIES
    runs = 1 if args.small else args.runs
    rows = [
        f"{'kind':<6}{'copies':>7}{'file KB':>9}{'seconds':>9}{'CPU s':>8}{'peak MB':>9}  outcome"
    ]
    print(rows[0], flush=True)
    for count in copies:
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            files = write_formats(article_text(count), folder)
            for kind, path in files.items():
                seconds, cpu, peak, outcome = measure(path, folder / "article.txt", runs)
                size = path.stat().st_size / 1024
                row = f"{kind:<6}{count:>7}{size:>9,.0f}{seconds:>9.2f}{cpu:>8.2f}{peak:>9.0f}"
                row += f"  {outcome}"
                rows.append(row)
                print(row, flush=True)
    return rows


if __name__ == "__main__":
    main()
