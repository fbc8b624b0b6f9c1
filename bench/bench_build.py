"""Time `check` and `build` on the seed workbook and on a large synthetic one; report medians.

Run: python bench/bench_build.py [--runs N]. Each measurement runs in a fresh process so that
peak memory (max RSS) belongs to that command alone. Machines are noisy: compare medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "workbooks" / "ceasefire-2024-06-14.xlsx"

MAKE_LARGE = """
import copy, sys
from pathlib import Path
from briefing.pipeline import example_records
from briefing.workbook import workbook_bytes
records, briefing = example_records()
figures = records["Figures"]
big = []
for i in range(int(sys.argv[2])):
    row = dict(copy.deepcopy(figures[i % len(figures)]))
    row["ID"] = f"F{i + 1}"
    big.append(row)
records = dict(records, Figures=big, Judgments=[])
Path(sys.argv[1]).write_bytes(workbook_bytes(records, briefing))
"""

MEASURE = """
import resource, sys, time
from pathlib import Path
start = time.perf_counter()
from briefing import pipeline
command, workbook, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
if command == "check":
    pipeline.check_workbook(workbook)
else:
    pipeline.build_memo(workbook, out)
seconds = time.perf_counter() - start
print(seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def measure(command: str, workbook: Path, out: Path, runs: int) -> dict[str, float]:
    seconds, memory = [], []
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-c", MEASURE, command, str(workbook), str(out)],
            capture_output=True,
            text=True,
            check=True,
        )
        elapsed, rss = result.stdout.split()
        seconds.append(float(elapsed))
        memory.append(int(rss) / 1024)
    return {
        "median_s": round(statistics.median(seconds), 3),
        "min_s": round(min(seconds), 3),
        "max_rss_mb": round(max(memory), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rows", type=int, default=2000, help="figures in the large workbook")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        large = Path(folder) / "large.xlsx"
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", MAKE_LARGE, str(large), str(args.rows)], check=True)
        print(f"made a {args.rows}-figure workbook in {time.perf_counter() - started:.1f} s")
        results = {}
        for name, workbook in (("seed", SEED), (f"{args.rows} figures", large)):
            for command in ("check", "build"):
                out = Path(folder) / "memo.docx"
                results[f"{command} {name}"] = measure(command, workbook, out, args.runs)
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
