"""bench/bench_help.py runs at its smallest setting and prints its table and the target's line."""

from __future__ import annotations

import re

from tests.conftest import run_bench

SECONDS = r"(-?\d+\.\d{3})"


def test_the_help_benchmark_prints_both_timings_and_the_target_at_one_run() -> None:
    result = run_bench("bench_help.py", "--runs", "1", timeout=120)
    lines = result.stdout.splitlines()
    assert lines[:2] == [
        "briefing --help benchmark: median of 1 fresh process(es) each",
        "what                  wall s   CPU s",
    ]
    rows = {}
    for line in lines[2:5]:
        match = re.fullmatch(rf"(.+?)\s+{SECONDS}\s+{SECONDS}", line)
        assert match is not None, line
        rows[match[1]] = (float(match[2]), float(match[3]))
    assert list(rows) == ["python -c pass", "briefing --help", "difference"]
    for what in ("python -c pass", "briefing --help"):
        wall, cpu = rows[what]
        assert 0 < wall < 30
        assert 0 < cpu < 30
    python, briefing = rows["python -c pass"], rows["briefing --help"]
    # Each figure is rounded on its own: the printed difference may be a millisecond off.
    for printed, help_time, python_time in zip(rows["difference"], briefing, python, strict=True):
        assert abs(printed - (help_time - python_time)) <= 0.0015
    assert re.fullmatch(r"target: briefing --help at most 0\.15 s \(wall\): (yes|no)", lines[5])
    assert len(lines) == 6
