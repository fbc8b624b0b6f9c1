"""bench/bench_hostile_templates.py runs its quick cases and finds each within its bounds."""

from __future__ import annotations

import re

from tests.conftest import run_bench


def test_the_hostile_template_benchmark_measures_each_quick_case() -> None:
    result = run_bench("bench_hostile_templates.py", "--small")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("hostile templates: median of 1 run(s)")
    rows = [
        re.fullmatch(r"(.+?)\s+([\d.]+)\s+(\d+)\s+(\d+)\s+(\d+)  (Error: .*)", line)
        for line in lines[2:-1]
    ]
    assert [row[1] for row in rows if row] == [
        "seven doublings of 10,000,000 characters",
        "nine doublings of 10,000,000 characters",
        "forty copies of a 10,000,000-item list",
        "document.xml unpacking to 2 GB",
    ]
    for row in rows:
        assert row is not None
        own, child, tree = int(row[3]), int(row[4]), int(row[5])
        assert min(own, child) > 10  # MB: a Python process, at the least
        assert abs(own + child - tree) <= 1
    assert lines[-1].startswith("every case one Error line, under 25 s and 512 MB: ")
