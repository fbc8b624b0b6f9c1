"""Time and peak memory of `build` with hostile templates; each must end in one Error line.

Run: python bench/bench_hostile_templates.py [--runs N] [--small]

Target (issue 11): every case ends in one `Error:` line within 25 s, the whole process tree
under 512 MB. Each case builds the seed workbook with the template in a fresh process, which
runs the CLI and reports its own peak (max RSS) and its children's: the render's child process.
"tree" adds the two peaks, an upper bound on what the tree held at once; the child's figure
includes the few MB it had as a fork of its parent before it started Python. Wall time is the
whole process, start to exit. `--small` runs the cases that take seconds, once each, with a
256 MB part instead of 2 GB (tests run it).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

from docx import Document

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "workbooks" / "ceasefire-2024-06-14.xlsx"
TARGET_SECONDS, TARGET_MB = 25, 512

MEASURE = """
import resource, sys
from briefing.cli import run
sys.argv = ["briefing", *sys.argv[1:]]
try:
    run()
except SystemExit:
    pass
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(own, children)
"""


def paragraphs(*texts: str) -> Callable[[Path, bool], None]:
    """A template whose body is the given paragraphs."""

    def make(path: Path, small: bool) -> None:
        document = Document()
        for text in texts:
            document.add_paragraph(text)
        document.save(str(path))

    return make


def part_bomb(path: Path, small: bool) -> None:
    """A 2 MB template whose word/document.xml unpacks to 2 GB (256 MB with --small)."""
    plain = path.with_name("plain.docx")
    paragraphs("{{ title }}")(plain, small)
    with (
        zipfile.ZipFile(plain) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            if item.filename != "word/document.xml":
                target.writestr(item, source.read(item))
                continue
            with target.open(item.filename, "w", force_zip64=True) as part:
                part.write(source.read(item))
                spaces = b" " * 2**20  # after the root element: still well-formed XML
                for _ in range(256 if small else 2048):
                    part.write(spaces)
    plain.unlink()


def doublings(times: int) -> Callable[[Path, bool], None]:
    return paragraphs("{% set s = 'x' * 10000000 %}", *["{% set s = s ~ s %}"] * times, "{{ 1 }}")


COPIES = paragraphs(
    "{% set a = ('x' * 10000000)|list %}{% set ns = namespace(l=[]) %}",
    "{% for i in range(40) %}{% set n = ns.l.append(a * 1) %}{% endfor %}{{ ns.l|length }}",
)
NESTED_LOOPS = paragraphs(
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
)
# name: (make, whether --small runs it)
CASES: dict[str, tuple[Callable[[Path, bool], None], bool]] = {
    "seven doublings of 10,000,000 characters": (doublings(7), True),
    "nine doublings of 10,000,000 characters": (doublings(9), True),
    "forty copies of a 10,000,000-item list": (COPIES, True),
    "document.xml unpacking to 2 GB": (part_bomb, True),
    "loops of 10^10 steps (the time limit)": (NESTED_LOOPS, False),
}


def measure(template: Path, memo: Path) -> tuple[float, float, float, str]:
    """Seconds, the CLI's own peak MB, its children's peak MB, and its last line on stderr."""
    started = time.perf_counter()
    finished = subprocess.run(
        [sys.executable, "-c", MEASURE, "build", str(SEED), "-t", str(template), "-o", str(memo)],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.perf_counter() - started
    own, children = (int(kb) / 1024 for kb in finished.stdout.split()[-2:])
    memo.unlink(missing_ok=True)
    errors = finished.stderr.strip().splitlines()
    return seconds, own, children, "\n".join(errors)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per case (median)")
    parser.add_argument("--small", action="store_true", help="the quick cases, one run each")
    args = parser.parse_args()
    runs = 1 if args.small else args.runs
    print(f"hostile templates: median of {runs} run(s); peak = max RSS (MB); tree = CLI + child")
    print(f"{'case':42} {'s':>6} {'CLI':>6} {'child':>6} {'tree':>6}  outcome")
    within = True
    with tempfile.TemporaryDirectory() as folder:
        for name, (make, quick) in CASES.items():
            if args.small and not quick:
                continue
            template = Path(folder) / "hostile.docx"
            make(template, args.small)
            results = [measure(template, Path(folder) / "memo.docx") for _ in range(runs)]
            seconds = statistics.median(r[0] for r in results)
            own = max(r[1] for r in results)
            child = max(r[2] for r in results)
            outcome = results[-1][3].replace(str(template), "…")
            one_line = outcome.startswith("Error: ") and "\n" not in outcome
            within &= one_line and seconds < TARGET_SECONDS and own + child < TARGET_MB
            print(f"{name:42} {seconds:6.2f} {own:6.0f} {child:6.0f} {own + child:6.0f}  {outcome}")
    verdict = "yes" if within else "NO"
    print(f"every case one Error line, under {TARGET_SECONDS} s and {TARGET_MB} MB: {verdict}")


if __name__ == "__main__":
    main()
