"""bench/bench_articles.py runs at its smallest size and prints a line for each format."""

from __future__ import annotations

import re

import pytest

from tests.conftest import run_bench

NUMBER = r"\d[\d,]*(?:\.\d+)?"


@pytest.mark.office
def test_the_article_benchmark_reads_each_format_at_its_smallest_size() -> None:
    result = run_bench("bench_articles.py", "--small")
    header, *lines = result.stdout.splitlines()
    assert header.split() == [
        "kind",
        "copies",
        "file",
        "KB",
        "seconds",
        "CPU",
        "s",
        "peak",
        "MB",
        "outcome",
    ]
    rows = {}
    for line in lines:
        match = re.fullmatch(
            rf"(\w+)\s+1\s+{NUMBER}\s+({NUMBER})\s+({NUMBER})\s+({NUMBER})  (.+)", line
        )
        assert match is not None, line
        rows[match[1]] = (float(match[2]), float(match[3]), float(match[4]), match[5])
    assert set(rows) == {"html", "docx", "pdf"}
    for seconds, cpu, peak, outcome in rows.values():
        assert 0 < seconds < 60
        assert 0 < cpu < 60
        assert 10 < peak < 2000  # MB: a Python process and its libraries, at the least
        # Every line of the seed article is read back whole from each format.
        assert re.fullmatch(r"(\d+)/\1 lines kept", outcome), outcome
