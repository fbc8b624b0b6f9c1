"""Write docs/workbook.md, the column reference, from the schema so the two never disagree.

Run `python tools/make_docs.py` after changing briefing/schema.py; a test fails until you do.
"""

from __future__ import annotations

from pathlib import Path

from briefing.schema import SHEETS, VOCABULARIES, Kind

TARGET = Path(__file__).resolve().parent.parent / "docs" / "workbook.md"


def render() -> str:
    lines = [
        "# The workbook",
        "",
        "Generated from `briefing/schema.py` by `tools/make_docs.py`; do not edit by hand.",
        "",
        "Each sheet holds one kind of record, one per row under a header row. Headers may be in",
        "any order and differ in case and spacing; columns the schema does not know are ignored",
        "with a warning. The Briefing sheet instead lists fields: a Field column and a Value",
        "column. `briefing init` writes every sheet with these headers, dropdowns and a Guide.",
        "",
    ]
    for spec in SHEETS:
        lines += [f"## {spec.name}", "", spec.help, ""]
        lines += ["| column | required | holds | allowed values | what it is | example |"]
        lines += ["| --- | --- | --- | --- | --- | --- |"]
        for column in spec.columns:
            kind = "number" if column.kind is Kind.NUMBER else str(column.kind)
            lines.append(
                f"| {column.header} | {'yes' if column.required else ''} | {kind} | "
                f"{column.accepts} | {column.help} | {column.example} |"
            )
        lines.append("")
    lines += [
        "## Vocabularies",
        "",
        "The cell holds the code. The memo spells out source grades and likelihood ranges in",
        "words; the other codes it prints as they are.",
        "",
    ]
    for vocabulary in VOCABULARIES:
        words = "; ".join(f"`{c.code}` {c.words}".strip() for c in vocabulary.choices)
        lines += [f"- **{vocabulary.name}**: {words}"]
    return "\n".join(lines) + "\n"


def main() -> None:
    TARGET.write_text(render(), encoding="utf-8")
    print(f"Wrote {TARGET}")


if __name__ == "__main__":
    main()
