"""bench/bench_shapes.py runs at its smallest size and prints a line for each of its sheets."""

from __future__ import annotations

import re

import pytest

from tests.conftest import run_bench

SHEETS = (
    "rows all alike",
    "rows not alike (Excel's)",
    "two shapes in turn",
    "rows cycling among 5 shapes",
    "3 columns in 8 styles each",
    "3 columns in 12 styles each",
)


def test_the_shapes_benchmark_prints_every_sheet_at_its_smallest_size() -> None:
    result = run_bench("bench_shapes.py", "--small")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("rows that shapes take poorly: read and validate, median of 1 ")
    found = {}
    for line in lines[2:]:
        match = re.fullmatch(r"(.+?)\s+2,000\s+(\d+\.\d\d)\s+(\d+\.\d\d)\s+(\d+\.\d\d)", line)
        assert match, line
        found[match[1]] = tuple(float(match[index]) for index in (2, 3, 4))
    assert tuple(found) == SHEETS
    for with_shapes, without, ratio in found.values():
        assert 0 < with_shapes < 60
        assert 0 < without < 60
        assert ratio == pytest.approx(with_shapes / without, rel=0.25)  # of figures rounded
