"""Write docs/workbook.md, the column reference, from the schema so the two never disagree.

Run `python tools/make_docs.py` after changing briefing/schema.py; a test fails until you do.
"""

from __future__ import annotations

from pathlib import Path

from briefing.schema import SCHEMA, VOCABULARIES, Kind, Schema, column_help

TARGET = Path(__file__).resolve().parent.parent / "docs" / "workbook.md"


def render(schema: Schema = SCHEMA) -> str:
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
    for spec in schema.sheets:
        about = spec.help
        if spec.since:
            about += f" Added in briefing {spec.since}; a workbook made before reads it as empty."
        elif spec.optional:
            about += " Optional: a workbook without it reads it as empty."
        lines += [f"## {spec.name}", "", about, ""]
        lines += ["| column | required | holds | allowed values | what it is | example |"]
        lines += ["| --- | --- | --- | --- | --- | --- |"]
        for column in spec.columns:
            kind = "number" if column.kind is Kind.NUMBER else str(column.kind)
            lines.append(
                f"| {column.header} | {'yes' if column.required else ''} | {kind} | "
                f"{schema.accepts(column)} | {column_help(column)} | {column.example} |"
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
