"""Time `build` on a folder of seed copies: one process after another against one a core.

Run: python bench/bench_batch.py [--copies N] [--runs N] [--small]. Each run builds every copy's
memo in a fresh process through `pipeline.build_many`, once serially (workers=1) and once with
the workers a batch of that size gets (one a core); the medians of the runs are printed, with
the speed-up, and how many cores the machine gave a CPU-bound control at the time (a
speed-up cannot pass it). --small builds 4 copies once, as tests/test_bench_batch.py does.
Machines are noisy, and a shared one more so: compare medians, and read "CPU s" (what the
processes used, which a busy machine does not inflate) beside the wall time.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "workbooks" / "ceasefire-2024-06-14.xlsx"
SEED_ARTICLE = ROOT / "seeds" / "putin-ceasefire-conditions-2024-06-14.txt"

BUILD = """
import resource, sys, time
from pathlib import Path
start = time.perf_counter()
from briefing import pipeline
folder, out, workers = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
workbooks, _ = pipeline.workbooks_in([folder])
chosen = pipeline.parallel_workers(len(workbooks)) if workers == "cores" else int(workers)
outcomes = list(pipeline.build_many(workbooks, out, workers=chosen))
failed = [o.error for o in outcomes if o.error]
assert not failed, failed
seconds = time.perf_counter() - start
used = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
print(seconds, sum(u.ru_utime + u.ru_stime for u in used), chosen, len(outcomes))
"""


SPIN = "import time; t = time.perf_counter(); sum(range(2 * 10**7)); print(time.perf_counter() - t)"


def free_cores(workers: int) -> float:
    """How many cores the machine gives now: `workers` CPU-bound processes at once, against
    one alone (2.0 for two processes on two idle cores; 1.0 on a machine busy elsewhere)."""

    def spin(count: int) -> float:
        started = [
            subprocess.Popen([sys.executable, "-c", SPIN], stdout=subprocess.PIPE, text=True)
            for _ in range(count)
        ]
        return statistics.mean(float(p.communicate()[0]) for p in started)

    alone = spin(1)
    return workers * alone / spin(workers)


def measure(folder: Path, out: Path, workers: str, runs: int) -> tuple[float, float, int]:
    """Median wall seconds and CPU seconds of `runs` builds of the folder, and the workers."""
    seconds, cpu, chosen = [], [], 0
    for _ in range(runs):
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        result = subprocess.run(
            [sys.executable, "-c", BUILD, str(folder), str(out), workers],
            capture_output=True,
            text=True,
            check=True,
        )
        elapsed, used, count, built = result.stdout.split()
        assert int(built) == len(list(folder.glob("*.xlsx")))
        seconds.append(float(elapsed))
        cpu.append(float(used))
        chosen = int(count)
    return statistics.median(seconds), statistics.median(cpu), chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--small", action="store_true", help="4 copies, one run")
    args = parser.parse_args()
    copies, runs = (4, 1) if args.small else (args.copies, args.runs)
    with tempfile.TemporaryDirectory() as temporary:
        # The seed cites its article as ../seeds/...: the copies keep that layout.
        folder = Path(temporary) / "workbooks"
        folder.mkdir()
        (Path(temporary) / "seeds").mkdir()
        shutil.copy(SEED_ARTICLE, Path(temporary) / "seeds")
        for number in range(1, copies + 1):
            shutil.copy(SEED, folder / f"desk-{number:02}.xlsx")
        out = Path(temporary) / "memos"
        serial = measure(folder, out, "1", runs)
        parallel = measure(folder, out, "cores", runs)
        cores = free_cores(parallel[2])
    print(f"briefing batch benchmark: {copies} seed copies, median of {runs} fresh process(es)")
    print(f"{'workers':<14}{'seconds':>10}{'CPU s':>10}{'s a memo':>10}")
    for label, (seconds, cpu, _) in (("serial", serial), (f"parallel ({parallel[2]})", parallel)):
        print(f"{label:<14}{seconds:>10.2f}{cpu:>10.2f}{seconds / copies:>10.3f}")
    print(f"speed-up      {serial[0] / parallel[0]:.2f}x")
    print(f"cores free    {cores:.2f} of {parallel[2]} (CPU-bound processes, as a control)")


if __name__ == "__main__":
    main()
