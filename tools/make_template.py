"""Write templates/memo.docx, the default memo template, from code so every change is reviewable.

Run `python tools/make_template.py` after editing; people restyling the memo edit the .docx in
Word instead, keeping the {{ tags }}.
"""

from __future__ import annotations

from pathlib import Path

import docx
from docx.document import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table
from docx.text.paragraph import Paragraph

TARGET = Path(__file__).resolve().parent.parent / "templates" / "memo.docx"
TABLE_STYLE = "Light Grid Accent 1"
NAVY = RGBColor(0x1F, 0x38, 0x64)
NUMBER_COLUMNS = {"Value", "Total", "Figures"}  # right-aligned so digits line up


def tag(document: Document, text: str) -> None:
    """A paragraph holding only a {%p ... %} tag; docxtpl removes it when rendering."""
    document.add_paragraph(text)


def field(paragraph: Paragraph, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES) that Word and LibreOffice fill in when they lay out pages."""
    simple = OxmlElement("w:fldSimple")
    simple.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    simple.append(run)
    # python-docx has no API for fields: append to the paragraph's XML element.
    paragraph._p.append(simple)  # noqa: SLF001 - python-docx's element accessor


def row_flags(table: Table) -> None:
    """The first row repeats on every page; no row splits across a page break."""
    for index, row in enumerate(table.rows):
        # python-docx has no API for row flags: `_tr` is the row's XML element.
        properties = row._tr.get_or_add_trPr()  # noqa: SLF001 - python-docx's element accessor
        properties.append(OxmlElement("w:cantSplit"))
        if index == 0:
            properties.append(OxmlElement("w:tblHeader"))


def shape(table: Table, widths: list[float], *, plain_first_column: bool = True) -> None:
    """Fixed column widths (the grid is what LibreOffice reads) and no bold first column."""
    table.autofit = False
    # python-docx sets no grid widths or table look: `_tbl` is the table's XML element.
    element = table._tbl  # noqa: SLF001 - python-docx's element accessor
    for column, width in zip(element.tblGrid.findall(qn("w:gridCol")), widths, strict=True):
        column.set(qn("w:w"), str(int(Cm(width).twips)))
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = Cm(width)
    look = element.tblPr.find(qn("w:tblLook"))
    if look is not None and plain_first_column:
        look.set(qn("w:firstColumn"), "0")
        look.set(qn("w:val"), "0420")


def loop_table(
    document: Document, headers: list[str], cells: list[str], loop: str, widths: list[float]
) -> None:
    """A table with a header row and one row repeated for each item of `loop`."""
    table = document.add_table(rows=4, cols=len(headers))
    table.style = TABLE_STYLE
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = text
    table.rows[1].cells[0].text = f"{{%tr for {loop} %}}"
    table.rows[3].cells[0].text = "{%tr endfor %}"
    for cell, text in zip(table.rows[2].cells, cells, strict=True):
        fill(cell.paragraphs[0], text)
    shape(table, widths)
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                paragraph.paragraph_format.space_after = Pt(0)
                for run in paragraph.runs:
                    run.font.size = Pt(9)
    for row in table.rows[0], table.rows[2]:
        for index, cell in enumerate(row.cells):
            if headers[index] in NUMBER_COLUMNS:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    row_flags(table)


def fill(paragraph: Paragraph, text: str) -> None:
    """Write `text` into a cell; `[detail]...[/detail]` parts come out small, grey and italic."""
    parts = text.replace("[/detail]", "[detail]").split("[detail]")
    for index, part in enumerate(parts):
        if not part:
            continue
        run = paragraph.add_run(part)
        if index % 2:
            run.italic = True
            run.font.color.rgb = RGBColor(0x59, 0x59, 0x59)


def section(document: Document, condition: str, title: str) -> None:
    tag(document, f"{{%p if {condition} %}}")
    document.add_heading(title, level=1)


def end_section(document: Document) -> None:
    tag(document, "{%p endif %}")


def styles(document: Document) -> None:
    normal = document.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(10.5)
    normal.paragraph_format.space_after = Pt(6)
    for name, size in (("Title", 22), ("Heading 1", 14), ("Heading 2", 11.5)):
        style = document.styles[name]
        style.font.name = "Calibri"
        style.font.size = Pt(size)
        style.font.color.rgb = NAVY
    document.styles["Heading 1"].paragraph_format.space_before = Pt(14)
    document.styles["Heading 2"].paragraph_format.space_before = Pt(8)


def page(document: Document) -> None:
    section_ = document.sections[0]
    section_.orientation = WD_ORIENT.PORTRAIT
    section_.page_width, section_.page_height = Cm(21), Cm(29.7)
    for side in ("left_margin", "right_margin"):
        setattr(section_, side, Cm(2.2))
    section_.top_margin = section_.bottom_margin = Cm(2)
    header = section_.header.paragraphs[0]
    header.alignment = WD_ALIGN_PARAGRAPH.CENTER
    label = header.add_run("{{ handling }}")
    label.bold = True
    footer = section_.footer.paragraphs[0]
    footer.paragraph_format.tab_stops.add_tab_stop(Cm(16.6), WD_TAB_ALIGNMENT.RIGHT)
    footer.add_run("{{ handling }}").bold = True
    footer.add_run("\tPage ")
    field(footer, "PAGE")
    footer.add_run(" of ")
    field(footer, "NUMPAGES")


def memo_block(document: Document) -> None:
    document.add_paragraph("{{ title }}", style="Title")
    rows = (
        ("MEMORANDUM FOR:", "{{ recipient }}"),
        ("FROM:", "{{ author }}"),
        ("DATE:", "{{ date }}"),
        ("SUBJECT:", "{{ subject }}"),
        (
            "INFORMATION AS OF:",
            "{{ information_as_of }}{% if window %} (records of {{ window }}){% endif %}",
        ),
    )
    block = document.add_table(rows=len(rows), cols=2)
    for row, (label, value) in zip(block.rows, rows, strict=True):
        row.cells[0].paragraphs[0].add_run(label).bold = True
        row.cells[1].paragraphs[0].add_run(value)
        for cell in row.cells:
            cell.paragraphs[0].paragraph_format.space_after = Pt(2)
    shape(block, [5.2, 11.4])
    document.add_heading("Bottom line up front", level=1)
    document.add_paragraph("{{ bluf }}")


def judgments(document: Document) -> None:
    section(document, "judgments", "Key judgments")
    tag(document, "{%p for j in judgments %}")
    paragraph = document.add_paragraph(style="List Number")
    paragraph.add_run("{{ j.text }} {{ j.citation }}")
    paragraph.paragraph_format.space_after = Pt(0)
    assessment = document.add_paragraph()
    assessment.paragraph_format.left_indent = Cm(0.63)
    run = assessment.add_run(
        "Likelihood: {{ j.likelihood }} ({{ j.likelihood_range }}). "
        "Confidence: {{ j.confidence }}. Based on {{ j.based_on }}."
        "{% if j.revised %} {{ j.revised }}{% endif %}"
    )
    run.italic = True
    run.font.size = Pt(9.5)
    tag(document, "{%p endfor %}")
    end_section(document)


def changes(document: Document) -> None:
    section(document, "changes", "What changed since {{ changes.since }}")
    document.add_paragraph("{{ changes.summary|capitalize }}.")
    tag(document, "{%p for c in changes.records %}")
    document.add_paragraph("{{ c.line }}", style="List Bullet")
    tag(document, "{%p endfor %}")
    end_section(document)


def demands(document: Document) -> None:
    section(document, "demand_tables", "Demands")
    tag(document, "{%p for t in demand_tables %}")
    loop_table(
        document,
        ["{{ t.left }}", "{{ t.right }}"],
        [
            "{{ r.left.demand }}[detail]{% if r.left.detail %} ({{ r.left.detail }})"
            "{% endif %}[/detail] {{ r.left.citation }}",
            "{{ r.right.demand }}[detail]{% if r.right.detail %} ({{ r.right.detail }})"
            "{% endif %}[/detail] {{ r.right.citation }}",
        ],
        "r in t.rows",
        [8.3, 8.3],
    )
    document.add_paragraph()
    tag(document, "{%p endfor %}")
    end_section(document)


def reactions(document: Document) -> None:
    section(document, "reaction_groups", "Reactions")
    tag(document, "{%p for g in reaction_groups %}")
    document.add_heading("{{ g.actor }}", level=2)
    tag(document, "{%p if g.who %}")
    who = document.add_paragraph()
    who.add_run("{{ g.who }}").italic = True
    who.paragraph_format.space_after = Pt(2)
    tag(document, "{%p endif %}")
    tag(document, "{%p for s in g.statements %}")
    statement = document.add_paragraph(style="List Bullet")
    statement.add_run("{{ s.stance|capitalize }}. ").bold = True
    statement.add_run("{{ s.summary }} ")
    statement.add_run("\u201c{{ s.quote }}\u201d").italic = True
    statement.add_run(" {{ s.citation }}")
    tag(document, "{%p endfor %}")
    tag(document, "{%p endfor %}")
    end_section(document)


def figures(document: Document) -> None:
    section(document, "figures", "Battlefield figures")
    loop_table(
        document,
        ["Date", "Place", "Claimed by", "What", "Value", "Status", "Source"],
        [
            "{{ f.date }}",
            "{{ f.place }}",
            "{{ f.claimed_by }}",
            "{{ f.metric }}",
            "{{ f.value }}",
            "{{ f.status }}",
            "{{ f.citation }}",
        ],
        "f in figures",
        [2.0, 3.0, 3.0, 3.6, 1.5, 1.7, 1.8],
    )
    tag(document, "{%p for c in charts %}")
    chart = document.add_paragraph()
    chart.paragraph_format.keep_with_next = True
    chart.paragraph_format.space_before = Pt(6)
    chart.paragraph_format.space_after = Pt(0)
    chart.add_run("{{ c.image }}")
    caption = document.add_paragraph()
    caption.add_run("{{ c.sentence }}").italic = True
    caption.runs[0].font.size = Pt(9)
    tag(document, "{%p endfor %}")
    tag(document, "{%p if totals %}")
    document.add_heading("Totals", level=2)
    loop_table(
        document,
        ["Claimed by", "What", "Unit", "Total", "Figures", "Source"],
        [
            "{{ t.claimed_by }}",
            "{{ t.metric }}{% if t.country %} ({{ t.country }}){% endif %}",
            "{{ t.unit }}",
            "{{ t.total }}",
            "{{ t.count }}",
            "{{ t.citation }}",
        ],
        "t in totals",
        [3.6, 4.6, 2.4, 2.0, 1.8, 2.2],
    )
    tag(document, "{%p endif %}")
    end_section(document)


def timeline(document: Document) -> None:
    section(document, "timeline", "Timeline")
    loop_table(
        document,
        ["Date", "Event", "Source"],
        ["{{ e.date }}", "{{ e.event }}", "{{ e.citation }}"],
        "e in timeline",
        [3.0, 11.6, 2.0],
    )
    end_section(document)


def sources(document: Document) -> None:
    section(document, "sources", "Sources")
    tag(document, "{%p for s in sources %}")
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph.add_run("{{ s.marker }} {{ s.title }}").bold = True
    detail = document.add_paragraph()
    detail.paragraph_format.left_indent = Cm(0.63)
    detail.add_run("{{ s.publisher }}{% if s.url %}, {{ s.url }}{% endif %}. ")
    detail.add_run("Graded {{ s.grade }}.").bold = True
    detail.add_run("{% if s.ai_generated %} Generated with AI.{% endif %}")
    detail.add_run("{% if s.notes %} {{ s.notes }}{% endif %}")
    tag(document, "{%p endfor %}")
    end_section(document)


def caveats(document: Document) -> None:
    section(document, "caveats", "Caveats")
    tag(document, "{%p for c in caveats %}")
    document.add_paragraph("{{ c }}", style="List Bullet")
    tag(document, "{%p endfor %}")
    end_section(document)


def main() -> None:
    document = docx.Document()
    styles(document)
    page(document)
    memo_block(document)
    judgments(document)
    changes(document)
    demands(document)
    reactions(document)
    figures(document)
    timeline(document)
    sources(document)
    caveats(document)
    # Render sets title, author and the rest; the template itself carries no author.
    core = document.core_properties
    core.author = core.last_modified_by = "briefing"
    core.title = "Briefing memo template"
    core.comments = "Default memo template of briefing; keep the Jinja tags when restyling."
    document.save(str(TARGET))
    print(f"Wrote {TARGET}")


if __name__ == "__main__":
    main()
