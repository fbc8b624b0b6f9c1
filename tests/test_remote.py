"""The scan for links out of a Word document: relationships, fields, declarations, part by part."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from briefing.pipeline import build_memo
from briefing.render.remote import (
    CHUNK,
    MAX_INSTRUCTION,
    EntityDeclared,
    NotWellFormed,
    RemoteLink,
    remote_links,
)
from tests.conftest import (
    LISTENER,
    W_NAMESPACE,
    cell,
    complex_field,
    relationship,
    relationships,
    simple_field,
    wordprocessing_part,
)

MakeWorkbook = Callable[..., Path]
STRICT_W_NAMESPACE = "http://purl.oclc.org/ooxml/wordprocessingml/main"
PNG_HEAD = b"\x89PNG\r\n\x1a\n" + bytes(64)


def links_in(parts: dict[str, bytes | str], **options: frozenset[str]) -> list[RemoteLink]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for name, data in parts.items():
            package.writestr(name, data)
    with zipfile.ZipFile(buffer) as package:
        return list(remote_links(package, **options))


def body(xml: str) -> str:
    return wordprocessing_part("document", xml)


@pytest.mark.parametrize(
    ("xml", "target", "kind"),
    [
        pytest.param(
            complex_field(f'INCLUDEPICTURE "{LISTENER}/a.png" \\d'),
            f"{LISTENER}/a.png",
            "an INCLUDEPICTURE field",
            id="complex-field",
        ),
        pytest.param(
            complex_field('INCLUDEPICTURE "', "").replace(
                '<w:r><w:instrText xml:space="preserve"></w:instrText></w:r>',
                complex_field("MERGEFIELD logo") + '<w:r><w:instrText>" \\d</w:instrText></w:r>',
            ),
            "{MERGEFIELD logo}",
            "an INCLUDEPICTURE field",
            id="address-from-a-nested-field",
        ),
        pytest.param(
            simple_field(f'dde Excel "{LISTENER}/book.xlsx" "R1C1"'),
            f"{LISTENER}/book.xlsx",
            "a DDE field",
            id="dde-in-lower-case",
        ),
        pytest.param(
            simple_field(f'HYPERLINK "{LISTENER}/page" \\l "part"'),
            f"{LISTENER}/page",
            "a HYPERLINK field",
            id="hyperlink-field-to-an-address",
        ),
        pytest.param(
            simple_field('DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe "/k calc"'),
            "c:\\\\windows\\\\system32\\\\cmd.exe",
            "a DDEAUTO field",
            id="ddeauto-running-a-program",
        ),
        pytest.param(
            simple_field(f'HYPERLINK \\o "Our site" "{LISTENER}/page"'),
            f"{LISTENER}/page",
            "a HYPERLINK field",
            id="hyperlink-field-opening-with-another-switch",
        ),
        pytest.param(
            f'<w:r><w:instrText>IMPORT "{LISTENER}/a.wmf"</w:instrText></w:r>',
            f"{LISTENER}/a.wmf",
            "an IMPORT field",
            id="field-code-outside-a-field",
        ),
        pytest.param(
            complex_field("INCLUDEPICTURE " + " " * (2 * MAX_INSTRUCTION), "tail.png"),
            "INCLUDEPICTURE",
            "an INCLUDEPICTURE field",
            id="endless-field-code-is-cut",
        ),
    ],
)
def test_fields_that_reach_out(xml: str, target: str, kind: str) -> None:
    assert links_in({"word/document.xml": body(xml)}) == [
        RemoteLink("word/document.xml", target, kind, is_field=True)
    ]


def test_fields_of_strict_documents_are_read() -> None:
    part = (
        f'<?xml version="1.0"?><w:document xmlns:w="{STRICT_W_NAMESPACE}"><w:p>'
        f"{simple_field(f'INCLUDETEXT {LISTENER}/t.docx')}</w:p></w:document>"
    )
    assert [link.kind for link in links_in({"word/document.xml": part})] == ["an INCLUDETEXT field"]


def test_a_field_result_is_not_its_code() -> None:
    # The text a field shows (between separate and end) is never read as field code.
    xml = complex_field("PAGE").replace("result", f"INCLUDEPICTURE {LISTENER}/x.png")
    assert links_in({"word/document.xml": body(xml)}) == []


def test_only_the_memos_own_hyperlinks_in_the_main_document_are_allowed() -> None:
    address = "https://news.example/article"
    link = relationship("hyperlink", address)
    parts: dict[str, bytes | str] = {
        "word/_rels/document.xml.rels": relationships(link),
        "word/_rels/footer1.xml.rels": relationships(link),
    }
    assert links_in(parts, made_hyperlinks=frozenset({address})) == [
        RemoteLink("word/_rels/footer1.xml.rels", address, "a hyperlink")
    ]


def test_internal_relationships_stay_in() -> None:
    parts: dict[str, bytes | str] = {
        "word/_rels/document.xml.rels": relationships(
            relationship("image", "media/image1.png", mode=None),
            relationship("styles", "/word/styles.xml", mode="Internal"),
        )
    }
    assert links_in(parts) == []


def test_binary_parts_are_skipped_and_utf16_parts_read() -> None:
    declared = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY e "e">]><x/>'
    parts: dict[str, bytes | str] = {
        "word/media/image1.png": PNG_HEAD,
        "customXml/item2.xml": declared.encode("utf-16"),
    }
    with pytest.raises(EntityDeclared, match=r"^customXml/item2\.xml$"):
        links_in(parts)


def test_a_declaration_past_the_first_megabyte_is_refused() -> None:
    # A comment may push the DOCTYPE past any head a quick look would read.
    late = f'<?xml version="1.0"?><!--{" " * (3 << 20)}--><!DOCTYPE x [<!ENTITY e "e">]><x/>'
    with pytest.raises(EntityDeclared, match=r"^customXml/item1\.xml$"):
        links_in({"customXml/item1.xml": late})


def test_a_part_that_is_not_xml_says_where() -> None:
    with pytest.raises(NotWellFormed) as caught:
        links_in({"word/document.xml": f'<w:document xmlns:w="{W_NAMESPACE}"><w:body>'})
    assert caught.value.part == "word/document.xml"
    assert caught.value.reason.startswith("no element found: line 1")


def test_a_target_is_printed_without_control_characters() -> None:
    link = RemoteLink("word/document.xml", "http://x/\x1b]0;owned\x07" + "a" * 200, "a hyperlink")
    assert link.shown_target == "http://x/ ]0;owned " + "a" * 100 + "…"


def test_the_memo_links_only_to_its_sources(make_workbook: MakeWorkbook, tmp_path: Path) -> None:
    url = "https://example.org/news/2024-06-14/putin-terms"
    memo = build_memo(make_workbook({cell("Sources", "URL", 2): url}), tmp_path / "memo.docx").path
    with zipfile.ZipFile(memo) as package:
        # The render allowed the hyperlink it made from the Sources URL; the scan sees it.
        assert list(remote_links(package)) == [
            RemoteLink("word/_rels/document.xml.rels", url, "a hyperlink")
        ]
        assert list(remote_links(package, made_hyperlinks=frozenset({url}))) == []


def test_a_part_of_any_name_typed_as_xml_is_read() -> None:
    content_types = (
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Override PartName="/word/glossary.bin" '
        'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document'
        '.glossary+xml"/></Types>'
    )
    declared = '\n\n<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]><x/>'
    parts: dict[str, bytes | str] = {
        "[Content_Types].xml": content_types,
        "word/glossary.bin": b"\x00" + declared.encode(),  # not XML at a glance
    }
    with pytest.raises((EntityDeclared, NotWellFormed)) as caught:
        links_in(parts)
    assert str(caught.value).startswith("word/glossary.bin")


def test_a_field_across_the_boundary_of_a_read_is_found() -> None:
    field = simple_field(f"INCLUDEPICTURE {LISTENER}/x.png")
    opening = body("").index("<w:p>") + len("<w:p>")
    # Padding puts "fldSimple" across the first megabyte's end, where the byte search splits.
    padding = "<w:r><w:t>" + "x" * (CHUNK - opening - 30) + "</w:t></w:r>"
    found = links_in({"word/document.xml": body(padding + field)})
    assert [link.target for link in found] == [f"{LISTENER}/x.png"]
