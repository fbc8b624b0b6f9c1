"""How long `briefing --help` takes, against Python starting and doing nothing (`python -c pass`).

Run: python bench/bench_help.py [--runs N]

Runs `briefing --help` (the console script beside this Python, or the same code through
`python -c` where there is none) and `python -c pass` in turn, each in a fresh process, N times
(21 unless told), and prints the median wall time and CPU time (user and system, from the
children's rusage) of each, their differences (what briefing's imports and the help itself
cost), and whether `--help` keeps to its target of 0.15 s. On a machine others share, wall
time is what they leave; CPU time is what the command itself costs. `--runs 1` is the smallest
setting (tests run it).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

TARGET = 0.15  # seconds `briefing --help` may take, Python's start-up included
CONSOLE_SCRIPT = Path(sys.executable).with_name("briefing")
# What the console script runs, for an environment that has none (briefing not installed).
AS_THE_SCRIPT = "import sys; from briefing.cli import run; sys.argv[0] = 'briefing'; run()"


def help_command() -> list[str]:
    """The command a user types, `briefing --help`, run by this Python."""
    if CONSOLE_SCRIPT.is_file():
        return [str(CONSOLE_SCRIPT), "--help"]
    return [sys.executable, "-c", AS_THE_SCRIPT, "--help"]


def seconds(command: Sequence[str]) -> tuple[float, float]:
    """The wall and CPU time of one fresh process running `command`, which must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="fresh processes of each (21)")
    runs = max(1, parser.parse_args(argv).runs)
    baseline, helps = [], []
    for _ in range(runs):  # in turn, so that both share whatever else the machine is doing
        baseline.append(seconds([sys.executable, "-c", "pass"]))
        helps.append(seconds(help_command()))
    python = [statistics.median(times) for times in zip(*baseline, strict=True)]
    briefing = [statistics.median(times) for times in zip(*helps, strict=True)]
    print(f"briefing --help benchmark: median of {runs} fresh process(es) each")
    print(f"{'what':<20}{'wall s':>8}{'CPU s':>8}")
    for what, (wall, cpu) in (
        ("python -c pass", python),
        ("briefing --help", briefing),
        ("difference", (briefing[0] - python[0], briefing[1] - python[1])),
    ):
        print(f"{what:<20}{wall:>8.3f}{cpu:>8.3f}")
    met = "yes" if briefing[0] <= TARGET else "no"
    print(f"target: briefing --help at most {TARGET:.2f} s (wall): {met}")


if __name__ == "__main__":
    main()
