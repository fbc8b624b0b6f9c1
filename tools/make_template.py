"""Write templates/memo.docx, the default memo template, from code so every change is reviewable.

Run `python tools/make_template.py` after editing; people restyling the memo edit the .docx in
Word instead, keeping the {{ tags }}.
"""

from __future__ import annotations

import io
import re
import zipfile
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
from lxml import etree

from briefing.render.word import with_own_application

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
    small(table)
    keep_header_with_body(table)
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


def section(document: Document, condition: str, title: str, level: int = 1) -> None:
    tag(document, f"{{%p if {condition} %}}")
    document.add_heading(title, level=level)


def end_section(document: Document) -> None:
    tag(document, "{%p endif %}")


def bullet(document: Document, text: str = "") -> Paragraph:
    paragraph = document.add_paragraph(style="List Bullet")
    if text:
        paragraph.add_run(text)
    paragraph.paragraph_format.space_after = Pt(2)
    return paragraph


def styles(document: Document) -> None:
    normal = document.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(10.5)
    normal.paragraph_format.space_after = Pt(5)
    for name, size in (("Title", 22), ("Heading 1", 14), ("Heading 2", 11.5)):
        style = document.styles[name]
        style.font.name = "Calibri"
        style.font.size = Pt(size)
        style.font.color.rgb = NAVY
    document.styles["Heading 1"].paragraph_format.space_before = Pt(9)
    document.styles["Heading 2"].paragraph_format.space_before = Pt(5)


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
    rule = section_.footer.add_paragraph()
    rule.paragraph_format.space_after = Pt(0)
    rule.add_run("{{ handling_rule }}").font.size = Pt(8)


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
        ("REFERENCE:", "{{ reference }}"),
    )
    block = document.add_table(rows=len(rows), cols=2)
    for row, (label, value) in zip(block.rows, rows, strict=True):
        row.cells[0].paragraphs[0].add_run(label).bold = True
        row.cells[1].paragraphs[0].add_run(value)
        for cell in row.cells:
            cell.paragraphs[0].paragraph_format.space_after = Pt(2)
    shape(block, [5.2, 11.4])
    document.add_heading("{{ sections.bluf }}. Bottom line up front", level=1)
    document.add_paragraph("{{ bluf }}")


def judgments(document: Document) -> None:
    section(document, "judgments", "{{ sections.judgments }}. Key judgments")
    tag(document, "{%p for j in judgments %}")
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.keep_with_next = True
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph.add_run("{{ j.id }}. ").bold = True
    paragraph.add_run("{{ j.text }} {{ j.citation }}")
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
    section(document, "changes", "{{ sections.changes }}. What changed since {{ changes.since }}")
    document.add_paragraph("{{ changes.summary|capitalize }}.")
    tag(document, "{%p for c in changes.notable %}")
    bullet(document, "{{ c.line }}")
    tag(document, "{%p endfor %}")
    end_section(document)


def diplomacy(document: Document) -> None:
    section(document, "sections.diplomacy", "{{ sections.diplomacy }}. Diplomacy in brief")
    tag(document, "{%p if demand_categories %}")
    document.add_heading("Demands by category (Annex {{ annexes.demands }})", level=2)
    tag(document, "{%p for c in demand_categories %}")
    name = document.add_paragraph()
    name.paragraph_format.keep_with_next = True
    name.paragraph_format.space_after = Pt(1)
    name.add_run("{{ c.category }}").bold = True
    tag(document, "{%p if c.face_to_face %}")
    table = document.add_table(rows=2, cols=2)
    table.style = TABLE_STYLE
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for index, cell in enumerate(table.rows[0].cells):
        cell.text = f"{{{{ c.parties[{index}].party }}}}"
    for index, cell in enumerate(table.rows[1].cells):
        cell.paragraphs[0].add_run(
            f"{{% for d in c.parties[{index}].demands %}}{{{{ d.demand }}}}"
            "{% if not loop.last %}; {% endif %}{% endfor %} "
            f"{{{{ c.parties[{index}].citation }}}}"
        )
    shape(table, [8.3, 8.3])
    small(table)
    # The one body row holds every demand of each side: it may break across the page.
    table.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))  # noqa: SLF001 - python-docx has no API for it
    keep_header_with_body(table)
    tag(document, "{%p else %}")
    tag(document, "{%p for p in c.parties %}")
    party = bullet(document)
    party.add_run("{{ p.party }}: ").bold = True
    party.add_run(
        "{% for d in p.demands %}{{ d.demand }}{% if not loop.last %}; {% endif %}"
        "{% endfor %} {{ p.citation }}"
    )
    tag(document, "{%p endfor %}")
    tag(document, "{%p endif %}")
    tag(document, "{%p endfor %}")
    tag(document, "{%p endif %}")
    tag(document, "{%p if reactions_in_brief %}")
    document.add_heading("Who reacted how (Annex {{ annexes.reactions }})", level=2)
    tag(document, "{%p for r in reactions_in_brief %}")
    line = bullet(document)
    line.add_run("{{ r.actor }}").bold = True
    line.add_run("{% if r.who %} ({{ r.who }}){% endif %}: {{ r.stance }}: ")
    # Their own words where the analyst chose an excerpt; else the summary.
    line.add_run("{% if r.excerpt %}\u201c{{ r.excerpt }}\u201d{% endif %}").italic = True
    line.add_run("{% if not r.excerpt %}{{ r.summary }}{% endif %} {{ r.citation }}")
    tag(document, "{%p endfor %}")
    tag(document, "{%p endif %}")
    end_section(document)


def battlefield(document: Document) -> None:
    section(
        document,
        "sections.battlefield",
        "{{ sections.battlefield }}. Battlefield in brief"
        "{% if annexes.figures %} (all figures: Annex {{ annexes.figures }}){% endif %}",
    )
    tag(document, "{%p for f in leading_figures %}")
    line = bullet(document)
    line.add_run("{{ f.claimed_by }}: ").bold = True
    line.add_run(
        "{{ f.value }} {{ f.metric }}{% if f.place %}, {{ f.place }}{% endif %} "
        "({% if f.date != information_as_of %}{{ f.date }}, {% endif %}{{ f.status }}) "
        "{{ f.citation }}"
    )
    tag(document, "{%p endfor %}")
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
    end_section(document)


def outlook(document: Document) -> None:
    section(document, "outlook", "{{ sections.outlook }}. Outlook: what to watch")
    tag(document, "{%p for o in outlook %}")
    bullet(document, "{{ o }}")
    tag(document, "{%p endfor %}")
    end_section(document)


def annexes(document: Document) -> None:
    tag(document, "{%p if annexes %}")
    heading = document.add_heading("Annexes", level=1)
    heading.paragraph_format.page_break_before = True
    tag(document, "{%p endif %}")


def annex_demands(document: Document) -> None:
    section(document, "demands", "Annex {{ annexes.demands }}. Demands", level=2)
    loop_table(
        document,
        ["ID", "Party", "Category", "Demand", "Source"],
        [
            "{{ d.id }}",
            "{{ d.party }}",
            "{{ d.category }}",
            "{{ d.demand }}[detail]{% if d.detail %} ({{ d.detail }}){% endif %}[/detail]",
            "{{ d.citation }}",
        ],
        "d in demands",
        [1.2, 2.4, 2.4, 8.8, 1.8],
    )
    end_section(document)


def annex_reactions(document: Document) -> None:
    section(document, "reaction_groups", "Annex {{ annexes.reactions }}. Reactions", level=2)
    tag(document, "{%p for g in reaction_groups %}")
    document.add_heading("{{ g.actor }}", level=3)
    tag(document, "{%p if g.who %}")
    who = document.add_paragraph()
    who.add_run("{{ g.who }}").italic = True
    who.paragraph_format.space_after = Pt(2)
    who.paragraph_format.keep_with_next = True
    tag(document, "{%p endif %}")
    tag(document, "{%p for s in g.statements %}")
    statement = document.add_paragraph(style="List Bullet")
    statement.add_run("{{ s.id }}{% if s.date %}, {{ s.date }}{% endif %}. ").bold = True
    statement.add_run("{{ s.stance|capitalize }}. ").bold = True
    statement.add_run("{{ s.summary }} ")
    statement.add_run("\u201c{{ s.excerpt }}\u201d").italic = True
    statement.add_run(" {{ s.citation }}")
    tag(document, "{%p endfor %}")
    tag(document, "{%p endfor %}")
    end_section(document)


def annex_figures(document: Document) -> None:
    section(document, "figures", "Annex {{ annexes.figures }}. Figures", level=2)
    loop_table(
        document,
        ["ID", "Date", "Place", "Claimed by", "What", "Value", "Status", "Source"],
        [
            "{{ f.id }}",
            "{{ f.date }}",
            "{{ f.place }}",
            "{{ f.claimed_by }}",
            "{{ f.metric }}",
            "{{ f.value }}",
            "{{ f.status }}",
            "{{ f.citation }}",
        ],
        "f in figures",
        [1.0, 1.9, 2.6, 2.7, 3.2, 1.4, 2.0, 1.8],
    )
    tag(document, "{%p if totals %}")
    document.add_heading("Totals", level=3)
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


def annex_timeline(document: Document) -> None:
    section(document, "timeline", "Annex {{ annexes.timeline }}. Timeline", level=2)
    loop_table(
        document,
        ["Date", "Event", "Source"],
        ["{{ e.date }}", "{{ e.event }}", "{{ e.citation }}"],
        "e in timeline",
        [3.0, 11.6, 2.0],
    )
    end_section(document)


def annex_sources(document: Document) -> None:
    section(document, "sources", "Annex {{ annexes.sources }}. Sources and grades", level=2)
    tag(document, "{%p for s in sources %}")
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph.paragraph_format.keep_with_next = True
    paragraph.add_run("{{ s.marker }} {{ s.title }}").bold = True
    detail = document.add_paragraph()
    detail.paragraph_format.left_indent = Cm(0.63)
    detail.add_run("{{ s.publisher }}{% if s.url %}, {% endif %}")
    detail.add_run("{{ s.url }}")
    detail.add_run(". ")
    detail.add_run("Graded {{ s.grade }}.").bold = True
    detail.add_run("{% if s.ai_generated %} Generated with AI.{% endif %}")
    detail.add_run("{% if s.notes %} {{ s.notes }}{% endif %}")
    tag(document, "{%p endfor %}")
    end_section(document)


def annex_caveats(document: Document) -> None:
    section(document, "caveats", "Annex {{ annexes.caveats }}. Caveats", level=2)
    tag(document, "{%p for c in caveats %}")
    document.add_paragraph("{{ c }}", style="List Bullet")
    tag(document, "{%p endfor %}")
    end_section(document)


def small(table: Table) -> None:
    """Table text in 9 points, with no space after its paragraphs."""
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                paragraph.paragraph_format.space_after = Pt(0)
                for run in paragraph.runs:
                    run.font.size = Pt(9)


def keep_header_with_body(table: Table) -> None:
    """The header row's paragraphs keep with the next row: no header alone at a page's foot."""
    for cell in table.rows[0].cells:
        for paragraph in cell.paragraphs:
            paragraph.paragraph_format.keep_with_next = True


def main() -> None:
    document = docx.Document()
    styles(document)
    page(document)
    memo_block(document)
    judgments(document)
    changes(document)
    diplomacy(document)
    battlefield(document)
    outlook(document)
    annexes(document)
    annex_demands(document)
    annex_reactions(document)
    annex_figures(document)
    annex_timeline(document)
    annex_sources(document)
    annex_caveats(document)
    # Render sets title, author and the rest; the template itself carries no author.
    core = document.core_properties
    core.author = core.last_modified_by = "briefing"
    core.title = "Briefing memo template"
    core.comments = "Default memo template of briefing; keep the Jinja tags when restyling."
    buffer = io.BytesIO()
    document.save(buffer)
    TARGET.write_bytes(with_own_application(with_used_styles(buffer.getvalue())))
    print(f"Wrote {TARGET}")


def with_used_styles(package: bytes) -> bytes:
    """The package with only the styles its parts use (and those they are based on).

    python-docx's default document carries some 160 styles; a template restyled in Word
    should show the few the memo uses.
    """
    with zipfile.ZipFile(io.BytesIO(package)) as source:
        parts = {item.filename: source.read(item) for item in source.infolist()}
        infos = source.infolist()
    used = set()
    for name, data in parts.items():
        if name.startswith("word/") and name.endswith(".xml") and name != "word/styles.xml":
            used |= set(re.findall(rb'w:(?:pStyle|rStyle|tblStyle) w:val="([^"]+)"', data))
    styles = etree.fromstring(parts["word/styles.xml"])
    by_id = {s.get(qn("w:styleId")): s for s in styles.iter(qn("w:style"))}
    keep = {s for s, e in by_id.items() if e.get(qn("w:default")) == "1"}
    keep |= {value.decode() for value in used}
    # docxtpl and the memo's tags add List Bullet and Hyperlink-like runs at render time.
    keep |= {"ListBullet", "Heading3", "Caption"}
    pending = list(keep)
    while pending:
        element = by_id.get(pending.pop())
        if element is None:
            continue
        for link in ("w:basedOn", "w:next", "w:link"):
            found = element.find(qn(link))
            if found is not None and found.get(qn("w:val")) not in keep:
                keep.add(found.get(qn("w:val")))
                pending.append(found.get(qn("w:val")))
    for style_id, element in by_id.items():
        if style_id not in keep:
            styles.remove(element)
    latent = styles.find(qn("w:latentStyles"))
    if latent is not None:
        styles.remove(latent)
    parts["word/styles.xml"] = etree.tostring(styles, xml_declaration=True, encoding="UTF-8")
    # Word 2010's copy of every style with its effects: nothing of the memo's needs it.
    extra = "word/stylesWithEffects.xml"
    if extra in parts:
        del parts[extra]
        infos = [item for item in infos if item.filename != extra]
        rels = "word/_rels/document.xml.rels"
        parts[rels] = re.sub(rb"<Relationship [^>]*stylesWithEffects[^>]*/>", b"", parts[rels])
        types = "[Content_Types].xml"
        parts[types] = re.sub(rb"<Override [^>]*stylesWithEffects[^>]*/>", b"", parts[types])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in infos:
            target.writestr(item, parts[item.filename])
    return buffer.getvalue()


if __name__ == "__main__":
    main()
