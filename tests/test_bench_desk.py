"""bench/bench_desk.py runs at its smallest size and prints its one table of figures."""

from __future__ import annotations

import re

from tests.conftest import run_bench

NUMBER = r"\d[\d,]*(?:\.\d+)?"


def test_the_desk_benchmark_prints_every_figure_at_its_smallest_size() -> None:
    result = run_bench("bench_desk.py", "--small")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("briefing desk benchmark: median of 1 fresh process(es)")
    rows = {}
    for line in lines:
        match = re.fullmatch(rf"(.+?)\s+(seed|{NUMBER})?\s+({NUMBER})\s+({NUMBER})", line)
        if match:
            rows[(match[1].strip(), match[2] or "")] = (float(match[3]), float(match[4]))
    expected = {
        ("briefing --help", ""),
        ("build: the seed memo", "seed"),
        *(
            (name, size)
            for size in ("2,001", "5,001")
            for name in ("read alone, kept whole", "check", "build: one day's edition")
        ),
        ("naive: openpyxl load + docxtpl", "2,001"),
        ("build: rows not alike (Excel's)", "2,001"),
    }
    assert set(rows) == expected
    for seconds, peak in rows.values():
        assert 0 < seconds < 60
        assert 10 < peak < 2000  # MB: a Python process and its libraries, at the least
    text = result.stdout
    assert re.search(rf"ratio build / naive at 2,001 rows: {NUMBER}", text)
    reads = []
    for size in ("2,001", "5,001"):
        stages = re.search(
            rf"stages of check at {size} rows: read and validate ({NUMBER}) s \(\d+%\), "
            rf"quotes ({NUMBER}) s \(\d+%\); build adds",
            text,
        )
        assert stages is not None, text
        assert all(float(seconds) > 0 for seconds in stages.groups())
        reads.append(float(stages[1]))
    assert reads[1] > reads[0]  # two and a half times the rows take longer to read
