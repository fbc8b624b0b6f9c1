"""Trend charts as PNG images, drawn with matplotlib's Agg backend: no screen, no fonts fetched."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # before pyplot: draw to memory, never to a window

from matplotlib import dates as mdates
from matplotlib import pyplot
from matplotlib.ticker import MaxNLocator

WIDTH_INCHES = 6.3  # the text width of an A4 page with the memo's margins
HEIGHT_INCHES = 1.9
DOTS_PER_INCH = 200
INK = "#1F3864"  # the memo's navy: prints as a dark grey in black and white


def draw_trend(
    days: Sequence[dt.date],
    values: Sequence[float],
    *,
    title: str,
    unit: str,
    first_day: dt.date,
    last_day: dt.date,
) -> bytes:
    """A small line chart of one metric by day, from `first_day` to `last_day`, as PNG bytes."""
    figure, axes = pyplot.subplots(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DOTS_PER_INCH)
    try:
        # Matplotlib's date axis counts days as floats.
        x = [_day_number(day) for day in days]
        axes.plot(x, list(values), color=INK, marker="o", markersize=3, linewidth=1.4)
        axes.set_xlim(_day_number(first_day) - 0.5, _day_number(last_day) + 0.5)
        axes.set_ylim(bottom=0, top=max(values) * 1.15 or 1)
        axes.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        # matplotlib's date locators and formatters carry no type annotations.
        locator = mdates.AutoDateLocator(minticks=3, maxticks=7)  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(mdates.DateFormatter("%-d %b"))  # type: ignore[no-untyped-call]
        axes.set_title(title, fontsize=8, loc="left", color=INK)
        axes.set_ylabel(unit, fontsize=7)
        axes.tick_params(labelsize=7)
        axes.grid(axis="y", linewidth=0.4, color="#BFBFBF")
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        figure.tight_layout(pad=0.3)
        buffer = io.BytesIO()
        # No timestamp or software name in the file, so the same data draws the same bytes.
        figure.savefig(buffer, format="png", metadata={"Software": None})
        return buffer.getvalue()
    finally:
        pyplot.close(figure)


def _day_number(day: dt.date) -> float:
    """A day as matplotlib's date axis counts it (date2num carries no annotations)."""
    return float(mdates.date2num(day))  # type: ignore[no-untyped-call]
