"""bench/bench_batch.py runs at its smallest size and prints serial and parallel times."""

from __future__ import annotations

import re

from tests.conftest import run_bench

NUMBER = r"\d+\.\d+"


def test_the_batch_benchmark_prints_serial_and_parallel_at_its_smallest_size() -> None:
    result = run_bench("bench_batch.py", "--small")
    lines = result.stdout.splitlines()
    assert lines[:2] == [
        "briefing batch benchmark: 4 seed copies, median of 1 fresh process(es)",
        "workers          seconds     CPU s  s a memo",
    ]
    assert re.fullmatch(rf"serial\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}", lines[2])
    assert re.fullmatch(rf"parallel \(\d+\)\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}", lines[3])
    assert re.fullmatch(rf"speed-up\s+{NUMBER}x", lines[4])
    assert re.fullmatch(
        rf"cores free\s+{NUMBER} of \d+ \(CPU-bound processes, as a control\)", lines[5]
    )
    assert len(lines) == 6
