"""Turn an analyst's Excel workbook into a Word briefing memo."""

__version__ = "0.2.0"
