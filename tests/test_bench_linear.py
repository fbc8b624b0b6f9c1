"""bench/bench_linear.py runs at its smallest size and prints a line for each case it measures."""

from __future__ import annotations

import re

from tests.conftest import run_bench

NUMBER = r"\d[\d,]*(?:\.\d+)?"


def test_the_linear_cost_benchmark_prints_every_case_at_its_smallest_size() -> None:
    result = run_bench("bench_linear.py", "--small")
    lines = result.stdout.splitlines()
    assert lines[0] == "briefing linear-cost benchmark: median of 1 fresh process(es)"
    rows = {}
    figures = rf"\s+({NUMBER})\s+({NUMBER})\s+({NUMBER})  (.+)"  # seconds, CPU s, peak MB
    for line in lines[2:]:
        match = re.fullmatch(rf"(.+?)\s+(seed|{NUMBER} MB){figures}", line)
        assert match is not None, line
        rows[(match[1], match[2])] = (float(match[3]), float(match[4]), float(match[5]), match[6])
    assert set(rows) == {
        ("extract into a new workbook", "0.05 MB"),
        ("check, merged H1:XFD1048576", "seed"),
    }
    for seconds, cpu, peak, _ in rows.values():
        assert 0 < seconds < 60
        assert 0 < cpu < 60
        assert 10 < peak < 2000  # MB: a Python process and its libraries, at the least
    assert re.fullmatch(rf"{NUMBER} rows", rows[("extract into a new workbook", "0.05 MB")][3])
    assert rows[("check, merged H1:XFD1048576", "seed")][3] == "9 errors, 0 warnings"
