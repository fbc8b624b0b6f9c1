"""bench/bench_ods.py runs at its smallest size and prints its one table of figures."""

from __future__ import annotations

import re

import pytest

from tests.conftest import needs_office, run_bench

NUMBER = r"\d[\d,]*(?:\.\d+)?"


@pytest.mark.office
@needs_office
def test_the_ods_benchmark_prints_every_figure_at_its_smallest_size() -> None:
    result = run_bench("bench_ods.py", "--small")
    lines = result.stdout.splitlines()
    assert (
        lines[0]
        == "briefing .ods benchmark: median of 1 fresh process(es); time inside the process"
    )
    rows = {}
    for line in lines:
        match = re.fullmatch(
            rf"(.+?)\s+(seed|{NUMBER})\s+({NUMBER})\s+({NUMBER})\s+({NUMBER})", line
        )
        if match:
            rows[(match[1].strip(), match[2])] = int(match[5].replace(",", ""))
    for size in ("seed", "1,001"):
        # Both reads give the same cells, and check finds no problem in either file.
        assert rows[("read .ods (odsxml)", size)] == rows[("read .xlsx (sheetxml)", size)]
        assert rows[("check .xlsx", size)] == rows[("check .ods", size)] == 0
    ratios = [line for line in lines if line.startswith("ratio ")]
    assert [re.sub(r"\d+\.\d\d$", "R", line) for line in ratios] == [
        "ratio read .ods / read .xlsx at seed rows: R",
        "ratio read .ods / read .xlsx at 1,001 rows: R",
    ]
